package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/streamlake/streamlake/tools/internal/cli"
)

func main() { cli.Main(run) }

// run is the command: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("sarcheck", stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	packaged := fs.Bool("packaged", false, "the template is the output of `sam package`: require s3:// code, license and readme, as `sam publish` does")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: sarcheck [-json] [-packaged] template.yaml\n\n"+
			"Checks that a SAM template can be published to the AWS Serverless Application Repository\n"+
			"and lists the capabilities deploying it needs. Exit status 1 when SAR would refuse it.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if code, done := cli.Parse(fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "sarcheck: want one template file, got %d arguments\n\n", fs.NArg())
		fs.Usage()
		return 2
	}
	rep, err := check(fs.Arg(0), *packaged)
	if err != nil {
		fmt.Fprintf(stderr, "sarcheck: %v\n", err)
		return 1
	}
	if *asJSON {
		err = rep.writeJSON(stdout)
	} else {
		err = rep.writeText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sarcheck: write report: %v\n", err)
		return 1
	}
	if rep.errors() > 0 {
		return 1
	}
	return 0
}

// checker accumulates the findings about one template.
type checker struct {
	doc *document
	// dir is the template's directory: LicenseUrl and ReadmeUrl are relative to it.
	dir string
	// packaged requires what `sam publish` requires of a packaged template.
	packaged bool
	rep      *report
}

// check reads and checks the template at path; packaged says it is the output of
// `sam package`. It returns an error only when the file cannot be read or parsed;
// everything else is a finding in the report.
func check(path string, packaged bool) (*report, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	doc, err := parseTemplate(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := &checker{doc: doc, dir: filepath.Dir(path), packaged: packaged, rep: &report{Template: path, Bytes: len(src)}}
	c.checkSize(len(src))
	c.checkMetadata()
	c.checkInterface(c.checkParameters(path))
	c.rep.Resources = c.expandResources()
	c.checkSupported(c.rep.Resources)
	if packaged {
		c.checkArtifacts()
	}
	c.rep.Capabilities = capabilities(c.rep.Resources)
	c.rep.sortFindings()
	return c.rep, nil
}

// MaxTemplateBodyBytes is the largest template CloudFormation accepts inline
// (CreateStack/CreateChangeSet TemplateBody); a larger one must be uploaded to S3 and
// passed as TemplateURL, which sam deploy does only with resolve_s3 = true or
// --s3-bucket (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).
const MaxTemplateBodyBytes = 51200

// checkSize warns when the template is over CloudFormation's inline limit. A
// packaged template is about as large as its source (comments go, S3 URLs come).
func (c *checker) checkSize(n int) {
	if n > MaxTemplateBodyBytes {
		c.warnf("(whole template)", "the template is %d bytes, over CloudFormation's %d-byte inline limit (TemplateBody): "+
			"deploy it through S3 (sam deploy with resolve_s3 = true or --s3-bucket; aws cloudformation deploy --s3-bucket)", n, MaxTemplateBodyBytes)
	}
}

// checkArtifacts checks that a packaged template points at uploaded code: `sam publish`
// refuses local paths
// (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-cli-command-reference-sam-publish.html).
func (c *checker) checkArtifacts() {
	resources, _ := c.doc.root["Resources"].(map[string]any)
	globals, _ := c.doc.root["Globals"].(map[string]any)
	globalFn, _ := globals["Function"].(map[string]any)
	for _, id := range slices.Sorted(maps.Keys(resources)) {
		def, _ := resources[id].(map[string]any)
		props, _ := def["Properties"].(map[string]any)
		var prop string
		switch def["Type"] {
		case "AWS::Serverless::Function":
			if has(props, "InlineCode") || props["PackageType"] == "Image" {
				continue
			}
			prop = "CodeUri"
			if !has(props, prop) && has(globalFn, prop) {
				props = globalFn
			}
		case "AWS::Serverless::LayerVersion":
			prop = "ContentUri"
		default:
			continue
		}
		path := joinKey(joinKey(joinKey("Resources", id), "Properties"), prop)
		switch v := props[prop].(type) {
		case string:
			if b, k, _ := strings.Cut(strings.TrimPrefix(v, "s3://"), "/"); !strings.HasPrefix(v, "s3://") || b == "" || k == "" {
				c.errorf(path, "%q is not an s3://bucket/key URL: run `sam package`", v)
			}
		case map[string]any:
			if _, ok := v["Bucket"].(string); !ok {
				c.errorf(path, "want s3://bucket/key or {Bucket, Key}")
			} else if _, ok := v["Key"].(string); !ok {
				c.errorf(path, "want s3://bucket/key or {Bucket, Key}")
			}
		default:
			c.errorf(path, "is %s; want the s3:// URL `sam package` writes", describe(v))
		}
	}
}
