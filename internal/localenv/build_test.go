package localenv

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/samtemplate"
)

// makefileFunction writes makefile into a temporary code directory and returns a
// function built from it with BuildMethod makefile.
func makefileFunction(t *testing.T, makefile string) samtemplate.Function {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte(makefile), 0o644); err != nil {
		t.Fatal(err)
	}
	return samtemplate.Function{LogicalID: "Fn", CodeDir: dir, Metadata: map[string]any{"BuildMethod": "makefile"}}
}

func TestBuildMakefile(t *testing.T) {
	e := &Env{WorkDir: t.TempDir()}
	// The target sees ARTIFACTS_DIR and this machine's GOOS/GOARCH, as sam build's
	// makefile builder passes ARTIFACTS_DIR.
	fn := makefileFunction(t, "build-Fn:\n\tprintf '%s/%s' $(LAMBDA_GOOS) $(LAMBDA_GOARCH) > $(ARTIFACTS_DIR)/bootstrap\n")
	bin, err := e.Build(context.Background(), fn)
	if err != nil {
		t.Fatalf("Build = %v", err)
	}
	if want := filepath.Join(e.WorkDir, "build", "Fn", "bootstrap"); bin != want {
		t.Errorf("Build = %q; want %q", bin, want)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), runtime.GOOS+"/"+runtime.GOARCH; got != want {
		t.Errorf("target saw %q; want %q", got, want)
	}
}

// TestBuildMakefileRelativeCodeDir: a template loaded by a relative path (as tests
// load ../../template.yaml) gives a relative CodeDir; make must still find the Makefile.
func TestBuildMakefileRelativeCodeDir(t *testing.T) {
	e := &Env{WorkDir: t.TempDir()}
	fn := makefileFunction(t, "build-Fn:\n\techo ok > $(ARTIFACTS_DIR)/bootstrap\n")
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if fn.CodeDir, err = filepath.Rel(wd, fn.CodeDir); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Build(context.Background(), fn); err != nil {
		t.Errorf("Build(CodeDir %q) = %v", fn.CodeDir, err)
	}
}

func TestBuildErrors(t *testing.T) {
	e := &Env{WorkDir: t.TempDir()}
	tests := []struct {
		name string
		fn   samtemplate.Function
		want string
	}{
		{"no target", makefileFunction(t, "build-Other:\n\ttrue\n"), "make build-Fn"},
		{"failing target", makefileFunction(t, "build-Fn:\n\t@echo compile error >&2; exit 1\n"), "compile error"},
		{"no bootstrap written", makefileFunction(t, "build-Fn:\n\ttrue\n"), "wrote no bootstrap"},
		{"other build method", samtemplate.Function{LogicalID: "Fn", CodeDir: t.TempDir(), Metadata: map[string]any{"BuildMethod": "python3.12"}}, `BuildMethod "python3.12"`},
		{"no CodeUri", samtemplate.Function{LogicalID: "Fn"}, "function Fn: CodeUri is missing"},
		{"InlineCode", samtemplate.Function{LogicalID: "Fn", Properties: map[string]any{"InlineCode": "x"}}, "function Fn: InlineCode: only a CodeUri directory"},
		{"code in S3", samtemplate.Function{LogicalID: "Fn", CodeURI: "s3://b/k.zip"}, "function Fn: CodeUri s3://b/k.zip is not a local directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Build(context.Background(), tc.fn)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Build = %v; want an error containing %q", err, tc.want)
			}
		})
	}
}
