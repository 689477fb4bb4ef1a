package localrun

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExportLine(t *testing.T) {
	tests := []struct {
		name string
		s    Session
		want string
	}{
		{
			name: "one emulator for every service",
			s:    Session{Endpoints: SingleEndpoint("http://127.0.0.1:4566"), Region: "eu-west-1"},
			want: "export AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:4566 AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:4566" +
				" AWS_ENDPOINT_URL_S3=http://127.0.0.1:4566 AWS_ENDPOINT_URL_SQS=http://127.0.0.1:4566 AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing",
		},
		{
			name: "one emulator per service: no AWS_ENDPOINT_URL",
			s: Session{Endpoints: map[string]string{"s3": "http://127.0.0.1:1", "sqs": "http://127.0.0.1:1", "kinesis": "http://127.0.0.1:2", "dynamodb": "http://127.0.0.1:3"},
				Region: "us-east-1"},
			want: "export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:3 AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:2 AWS_ENDPOINT_URL_S3=http://127.0.0.1:1" +
				" AWS_ENDPOINT_URL_SQS=http://127.0.0.1:1 AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing",
		},
		{
			name: "values a shell would split are quoted",
			s:    Session{Endpoints: map[string]string{"s3": "http://host/a b"}, Region: "x'y"},
			want: `export AWS_ENDPOINT_URL='http://host/a b' AWS_ENDPOINT_URL_S3='http://host/a b' AWS_REGION='x'\''y' AWS_DEFAULT_REGION='x'\''y' AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.ExportLine(); got != tc.want {
				t.Errorf("ExportLine() =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestSharedEndpoint(t *testing.T) {
	if got := (Session{Endpoints: SingleEndpoint("http://a")}).SharedEndpoint(); got != "http://a" {
		t.Errorf("SharedEndpoint() of one emulator = %q; want http://a", got)
	}
	if got := (Session{Endpoints: map[string]string{"s3": "http://a", "kinesis": "http://b"}}).SharedEndpoint(); got != "" {
		t.Errorf("SharedEndpoint() of two emulators = %q; want empty", got)
	}
	s := Session{Endpoints: map[string]string{"kinesis": "http://b"}}
	if got := s.Endpoint("Kinesis"); got != "http://b" {
		t.Errorf("Endpoint(Kinesis) = %q; want http://b", got)
	}
	if got := s.Endpoint("s3"); got != "" {
		t.Errorf("Endpoint(s3) = %q; want empty (not served)", got)
	}
}

func TestSaveLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "work")
	want := Session{Endpoints: SingleEndpoint("http://127.0.0.1:5000"), Region: "us-east-1", StackName: "streamlake",
		Outputs:  map[string]string{"SummaryTableName": "streamlake-SummaryTable"},
		Template: &Template{Path: "/src/app/template.yaml", ConfigEnv: "dev", Overrides: map[string]string{"BatchSize": "100"}, Function: "ProcessorFunction"}}
	if err := Save(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Load after Save (-want +got):\n%s", d)
	}
	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load after Remove = %v; want os.ErrNotExist", err)
	}
	if err := Remove(dir); err != nil {
		t.Errorf("Remove of nothing = %v; want nil", err)
	}
}

func TestLoadBadFiles(t *testing.T) {
	tests := []struct{ name, content, want string }{
		{"not JSON", "{", "unexpected end of JSON input"},
		{"no endpoints", `{"region":"us-east-1"}`, "no endpoints"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(Path(dir), []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), Path(dir)) {
				t.Errorf("Load(%s) = %v; want an error naming the file and %q", tc.content, err, tc.want)
			}
		})
	}
}
