package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/motoserver"
)

// builtTemplate returns the template `sam build` wrote for the repository template:
// .aws-sam/build/template.yaml when it is newer than template.yaml and holds every
// function, else a fresh build in a temporary directory.
func builtTemplate(t *testing.T, root, sam string, functions []string) string {
	t.Helper()
	src, err := os.Stat(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	built := filepath.Join(root, ".aws-sam", "build", "template.yaml")
	if fi, err := os.Stat(built); err == nil && !fi.ModTime().Before(src.ModTime()) {
		fresh := true
		for _, fn := range functions {
			if _, err := os.Stat(filepath.Join(root, ".aws-sam", "build", fn, "bootstrap")); err != nil {
				fresh = false
			}
		}
		if fresh {
			t.Logf("reusing %s", built)
			return built
		}
	}
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), sam, "build", "--template-file", "template.yaml",
		"--build-dir", filepath.Join(dir, "build"), "--cache-dir", filepath.Join(dir, "cache"))
	cmd.Dir = root
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sam build: %v\n%s", err, out)
	}
	t.Logf(".aws-sam/build is missing or older than template.yaml: built into %s in %v", dir, time.Since(start).Round(time.Second))
	return filepath.Join(dir, "build", "template.yaml")
}

// TestPackageUploadsArtifacts runs what `make package` runs, `sam package` after `sam
// build`, against moto's S3, and checks that the packaged template is what `sam
// publish` needs: every function's code, the license and the readme uploaded, and
// referenced by s3:// URLs that hold exactly those bytes.
func TestPackageUploadsArtifacts(t *testing.T) {
	motoserver.ForTest(t)
	sam := venvTool(t, "sam")
	// The SAM CLI reads the region from AWS_DEFAULT_REGION (or a profile), not AWS_REGION.
	t.Setenv("AWS_DEFAULT_REGION", "us-east-1")
	t.Setenv("SAM_CLI_TELEMETRY", "0")
	root := moduleRoot(t)
	ctx := t.Context()

	source, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	srcDoc, err := parseTemplate(source)
	if err != nil {
		t.Fatal(err)
	}
	var functions []string
	resources, _ := srcDoc.root["Resources"].(map[string]any)
	for _, id := range slices.Sorted(maps.Keys(resources)) {
		if def, _ := resources[id].(map[string]any); def["Type"] == "AWS::Serverless::Function" {
			functions = append(functions, id)
		}
	}
	if len(functions) == 0 {
		t.Fatal("template.yaml has no AWS::Serverless::Function")
	}

	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := fmt.Sprintf("sarcheck-package-%d", time.Now().UnixNano())
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}

	built := builtTemplate(t, root, sam, functions)
	packaged := filepath.Join(t.TempDir(), "packaged.yaml")
	cmd := exec.CommandContext(ctx, sam, "package", "--template-file", built,
		"--s3-bucket", bucket, "--output-template-file", packaged)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sam package: %v\n%s", err, out)
	}

	// `sam publish` takes the packaged template as it is: sarcheck -packaged must find
	// no local artifact in it. (Other findings are TestRepositoryTemplate's business.)
	rep, err := check(packaged, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		for _, prop := range []string{".CodeUri", ".ContentUri", ".LicenseUrl", ".ReadmeUrl"} {
			if f.Severity == sevError && strings.HasSuffix(f.Path, prop) {
				t.Errorf("sarcheck -packaged on the packaged template: %s: %s", f.Path, f.Message)
			}
		}
	}

	pkgSrc, err := os.ReadFile(packaged)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := parseTemplate(pkgSrc)
	if err != nil {
		t.Fatal(err)
	}
	object := func(what string, v any) []byte {
		t.Helper()
		u, _ := v.(string)
		b, key, _ := strings.Cut(strings.TrimPrefix(u, "s3://"), "/")
		if !strings.HasPrefix(u, "s3://") || b != bucket || key == "" {
			t.Errorf("packaged %s = %#v; want s3://%s/<key>", what, v, bucket)
			return nil
		}
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Errorf("packaged %s: get %s: %v", what, u, err)
			return nil
		}
		defer out.Body.Close()
		body, err := io.ReadAll(out.Body)
		if err != nil {
			t.Errorf("packaged %s: read %s: %v", what, u, err)
		}
		return body
	}

	pkgResources, _ := doc.root["Resources"].(map[string]any)
	for _, fn := range functions {
		def, _ := pkgResources[fn].(map[string]any)
		props, _ := def["Properties"].(map[string]any)
		body := object(fn+" CodeUri", props["CodeUri"])
		if body == nil {
			continue
		}
		zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			t.Errorf("%s code is not a zip archive: %v", fn, err)
			continue
		}
		var bootstrap *zip.File
		for _, f := range zr.File {
			if f.Name == "bootstrap" {
				bootstrap = f
			}
		}
		if bootstrap == nil {
			t.Errorf("%s code archive has no bootstrap", fn)
			continue
		}
		rc, err := bootstrap.Open()
		if err != nil {
			t.Fatal(err)
		}
		magic := make([]byte, 4)
		_, err = io.ReadFull(rc, magic)
		rc.Close()
		if err != nil || string(magic) != "\x7fELF" {
			t.Errorf("%s bootstrap starts with %q (%v); want an ELF executable", fn, magic, err)
		}
	}

	meta, _ := doc.root["Metadata"].(map[string]any)
	app, _ := meta[metadataKey].(map[string]any)
	for prop, file := range map[string]string{"LicenseUrl": "LICENSE", "ReadmeUrl": "README.md"} {
		want, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		if got := object(prop, app[prop]); got != nil && !bytes.Equal(got, want) {
			t.Errorf("packaged %s holds %d bytes that differ from %s (%d bytes)", prop, len(got), file, len(want))
		}
	}
	t.Logf("sam package uploaded %d function(s), LICENSE and README.md to s3://%s", len(functions), bucket)
}
