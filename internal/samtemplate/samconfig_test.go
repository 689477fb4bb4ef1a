package samtemplate

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// TestConfigTOMLSyntaxError: a broken samconfig.toml is reported with its line
// and column, and the decoder's error stays reachable with errors.As.
func TestConfigTOMLSyntaxError(t *testing.T) {
	tests := []struct {
		name, doc string
		line, col int
		message   string
	}{
		{"unclosed table header", "version = 0.1\n\n[default.deploy.parameters\nstack_name = \"s\"\n", 3, 27, "expected ']' to close table name"},
		{"unquoted string", "version = 0.1\n[default.deploy.parameters]\nstack_name = streamlake\n", 3, 14, "unexpected character U+0073 's' at start of value"},
		{"duplicate key", "version = 0.1\n[default.deploy.parameters]\nstack_name = \"a\"\nstack_name = \"b\"\n", 4, 1, "key stack_name is already defined"},
		{"unterminated string", "version = 0.1\n[default.deploy.parameters]\nparameter_overrides = \"ShardCount=2\n", 3, 36, "basic strings cannot have new lines"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "samconfig.toml")
			if err := os.WriteFile(path, []byte(tc.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load("testdata/params.yaml", Options{ConfigFile: path})
			if err == nil {
				t.Fatal("Load() = nil error; want the syntax error")
			}
			var de *toml.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Load() error = %v; want a *toml.DecodeError inside", err)
			}
			row, col := de.Position()
			where := path + ":" + strconv.Itoa(row) + ":" + strconv.Itoa(col) + ": "
			if row != tc.line || col != tc.col || !strings.Contains(err.Error(), where) || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("Load() error = %v (at %d:%d); want it at %d:%d, as %q, saying %q", err, row, col, tc.line, tc.col, where, tc.message)
			}
		})
	}
}
