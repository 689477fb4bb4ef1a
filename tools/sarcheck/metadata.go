package main

import (
	_ "embed"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// The constraints on the AWS::ServerlessRepo::Application metadata, from
//   - the SAM developer guide, "AWS SAM template Metadata section properties":
//     https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-template-publishing-applications-metadata-properties.html
//   - the SAR API reference, CreateApplicationInput:
//     https://docs.aws.amazon.com/serverlessrepo/latest/devguide/applications.html
//
// Intrinsic functions are not supported anywhere in this metadata key (first page).

const metadataKey = "AWS::ServerlessRepo::Application"

var (
	// namePattern is SAR's "[a-zA-Z0-9\\-]+", applied to the whole name.
	namePattern = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)
	// authorPattern is SAR's "^[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?$" without the
	// look-ahead Go's regexp lacks: lower-case letters and digits in runs joined by
	// single hyphens, so no leading, trailing or doubled hyphen. The two accept the
	// same strings (authorPattern's test checks this on both kinds of input).
	authorPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	// labelPattern is SAR's "^[a-zA-Z0-9+\\-_:\\/@]+$".
	labelPattern = regexp.MustCompile(`^[a-zA-Z0-9+\-_:/@]+$`)
	// semverPattern is the regular expression the Semantic Versioning 2.0.0
	// specification suggests (https://semver.org/#is-there-a-suggested-regular-expression-regex-to-check-a-semver-string).
	semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
		`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
		`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)
)

// Limits from the pages above.
const (
	maxNameLen        = 140
	maxDescriptionLen = 256
	maxAuthorLen      = 127
	maxLabels         = 10
	maxLabelLen       = 127
	// maxDocumentBytes is the largest license or readme file SAR takes (5 MB).
	maxDocumentBytes = 5 << 20
)

// metadataFields are the keys the SAM CLI reads from the metadata
// (samcli/vendor/serverlessrepo/application_metadata.py); it ignores any other key,
// so a misspelt key would be dropped without a word.
var metadataFields = map[string]bool{
	"Name": true, "Description": true, "Author": true, "SpdxLicenseId": true,
	"LicenseUrl": true, "LicenseBody": true, "ReadmeUrl": true, "ReadmeBody": true,
	"Labels": true, "HomePageUrl": true, "SemanticVersion": true, "SourceCodeUrl": true,
}

//go:embed spdx.txt
var spdxList string

// spdxIDs maps each SPDX license identifier to whether the list deprecates it.
var spdxIDs = parseSPDX(spdxList)

func parseSPDX(text string) map[string]bool {
	ids := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, flag, _ := strings.Cut(line, " ")
		ids[id] = flag == "deprecated"
	}
	return ids
}

// checkMetadata validates the AWS::ServerlessRepo::Application metadata.
func (c *checker) checkMetadata() {
	meta, _ := c.doc.root["Metadata"].(map[string]any)
	raw, ok := meta[metadataKey]
	base := joinKey("Metadata", metadataKey)
	if !ok {
		c.errorf("Metadata", "no %s key: `sam publish` needs it (Name, Description, Author, SemanticVersion, ...)", metadataKey)
		return
	}
	if calls := findIntrinsics(raw, base); len(calls) > 0 {
		for _, p := range calls {
			c.errorf(p, "intrinsic functions are not supported in %s: write the value itself", metadataKey)
		}
		return
	}
	app, ok := raw.(map[string]any)
	if !ok {
		c.errorf(base, "is %s; want a mapping", describe(raw))
		return
	}
	for _, k := range slices.Sorted(maps.Keys(app)) {
		if !metadataFields[k] {
			c.errorf(joinKey(base, k), "unknown property: the SAM CLI ignores it (known: %s)", strings.Join(slices.Sorted(maps.Keys(metadataFields)), ", "))
		}
	}

	str := func(key string, required bool, why string) (string, bool) {
		p := joinKey(base, key)
		v, ok := app[key]
		if !ok || v == nil {
			if required {
				c.errorf(p, "missing: %s", why)
			}
			return "", false
		}
		s, ok := v.(string)
		if !ok {
			hint := ""
			if isScalar(v) {
				hint = " (quote it in YAML)"
			}
			c.errorf(p, "is %s; want a string%s", describe(v), hint)
			return "", false
		}
		return s, true
	}

	if name, ok := str("Name", true, "`sam publish` requires it"); ok {
		c.rep.Application = name
		c.checkLength(joinKey(base, "Name"), name, maxNameLen)
		if name != "" && !namePattern.MatchString(name) {
			c.errorf(joinKey(base, "Name"), "%q: only letters, digits and '-' are allowed", name)
		}
	}
	if d, ok := str("Description", true, "`sam publish` requires it"); ok {
		c.checkLength(joinKey(base, "Description"), d, maxDescriptionLen)
	}
	if a, ok := str("Author", true, "`sam publish` requires it"); ok {
		c.checkLength(joinKey(base, "Author"), a, maxAuthorLen)
		if a != "" && !authorPattern.MatchString(a) {
			c.errorf(joinKey(base, "Author"), "%q: only lower-case letters, digits and single hyphens between them are allowed", a)
		}
	}
	if v, ok := str("SemanticVersion", true, "SAR makes an application public only with a semantic version"); ok {
		c.rep.Version = v
		if !semverPattern.MatchString(v) {
			c.errorf(joinKey(base, "SemanticVersion"), "%q is not a semantic version (MAJOR.MINOR.PATCH, https://semver.org/)", v)
		}
	}
	if id, ok := str("SpdxLicenseId", false, ""); ok {
		deprecated, known := spdxIDs[id]
		switch {
		case !known:
			c.errorf(joinKey(base, "SpdxLicenseId"), "%q is not an SPDX license identifier (https://spdx.org/licenses/; identifiers are case-sensitive)", id)
		case deprecated:
			c.warnf(joinKey(base, "SpdxLicenseId"), "%q is a deprecated SPDX identifier", id)
		}
	} else if _, present := app["SpdxLicenseId"]; !present {
		c.warnf(joinKey(base, "SpdxLicenseId"), "missing: SAR shows no license for the application")
	}

	_, hasLicenseBody := app["LicenseBody"]
	_, hasReadmeBody := app["ReadmeBody"]
	if _, ok := app["LicenseUrl"]; ok && hasLicenseBody {
		c.errorf(joinKey(base, "LicenseBody"), "give either LicenseUrl or LicenseBody, not both")
	}
	if _, ok := app["ReadmeUrl"]; ok && hasReadmeBody {
		c.errorf(joinKey(base, "ReadmeBody"), "give either ReadmeUrl or ReadmeBody, not both")
	}
	if u, ok := str("LicenseUrl", !hasLicenseBody, "SAR makes an application public only with a license, and it cannot be added after publishing"); ok {
		c.checkDocument(joinKey(base, "LicenseUrl"), u)
	}
	if u, ok := str("ReadmeUrl", false, ""); ok {
		c.checkDocument(joinKey(base, "ReadmeUrl"), u)
	} else if _, present := app["ReadmeUrl"]; !present && !hasReadmeBody {
		c.warnf(joinKey(base, "ReadmeUrl"), "missing: the SAR page would have no readme")
	}
	if u, ok := str("HomePageUrl", false, ""); ok {
		c.checkWebURL(joinKey(base, "HomePageUrl"), u)
	}
	if u, ok := str("SourceCodeUrl", false, ""); ok {
		c.checkWebURL(joinKey(base, "SourceCodeUrl"), u)
	}
	c.checkLabels(joinKey(base, "Labels"), app["Labels"])
}

func (c *checker) checkLength(path, s string, max int) {
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		c.errorf(path, "is empty; want 1 to %d characters", max)
	case n > max:
		c.errorf(path, "is %d characters long; SAR allows at most %d", n, max)
	}
}

func (c *checker) checkLabels(path string, v any) {
	if v == nil {
		return
	}
	labels, ok := v.([]any)
	if !ok {
		c.errorf(path, "is %s; want a list of strings", describe(v))
		return
	}
	if len(labels) > maxLabels {
		c.errorf(path, "has %d labels; SAR allows at most %d", len(labels), maxLabels)
	}
	seen := map[string]bool{}
	for i, l := range labels {
		p := joinIndex(path, i)
		s, ok := l.(string)
		if !ok {
			c.errorf(p, "is %s; want a string", describe(l))
			continue
		}
		c.checkLength(p, s, maxLabelLen)
		if s != "" && !labelPattern.MatchString(s) {
			c.errorf(p, "%q: only letters, digits and + - _ : / @ are allowed", s)
		}
		if seen[s] {
			c.errorf(p, "label %q is given twice", s)
		}
		seen[s] = true
	}
}

// checkDocument checks LicenseUrl or ReadmeUrl: a local file before `sam package`
// (which uploads it), an s3:// URL after.
func (c *checker) checkDocument(path, u string) {
	if strings.HasPrefix(u, "s3://") {
		if b, k, _ := strings.Cut(strings.TrimPrefix(u, "s3://"), "/"); b == "" || k == "" {
			c.errorf(path, "%q: want s3://bucket/key", u)
		}
		return
	}
	if c.packaged {
		c.errorf(path, "%q: `sam publish` needs an s3:// URL: run `sam package`, which uploads the file", u)
		return
	}
	if strings.Contains(u, "://") {
		c.errorf(path, "%q: want a local file (uploaded by `sam package`) or an s3:// URL", u)
		return
	}
	file := u
	if !filepath.IsAbs(file) {
		file = filepath.Join(c.dir, file)
	}
	fi, err := os.Stat(file)
	switch {
	case err != nil:
		c.errorf(path, "%q: %v", u, err)
	case !fi.Mode().IsRegular():
		c.errorf(path, "%q is not a regular file", u)
	case fi.Size() == 0:
		c.errorf(path, "%q is empty", u)
	case fi.Size() > maxDocumentBytes:
		c.errorf(path, "%q is %d bytes; SAR takes at most 5 MB", u, fi.Size())
	}
}

func (c *checker) checkWebURL(path, u string) {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		c.errorf(path, "%q: want an absolute http(s) URL", u)
		return
	}
	if p.Scheme == "http" {
		c.warnf(path, "%q: prefer https", u)
	}
}

// errorf and warnf record a finding at path.
func (c *checker) errorf(path, format string, a ...any) { c.add(sevError, path, format, a...) }
func (c *checker) warnf(path, format string, a ...any)  { c.add(sevWarning, path, format, a...) }

func (c *checker) add(s severity, path, format string, a ...any) {
	c.rep.Findings = append(c.rep.Findings, finding{Severity: s, Path: path, Line: c.doc.line(path), Message: fmt.Sprintf(format, a...)})
}
