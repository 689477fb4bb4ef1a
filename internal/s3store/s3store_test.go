package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/motoserver"
)

// motoBucket starts moto server (or fails, under make test) and creates bucket.
func motoBucket(t *testing.T, bucket string) *s3.Client {
	t.Helper()
	motoserver.ForTest(t)
	cfg, err := awsconfig.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	client := NewClient(cfg)
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return client
}

func TestPutAgainstMoto(t *testing.T) {
	ctx := context.Background()
	bucket := "s3store-test-bucket"
	client := motoBucket(t, bucket)
	store := New(client, bucket)
	obj := ingest.Object{
		Key:         "processed/year=2026/month=11/day=21/hour=13/shardId-000000000000-1.ndjson",
		Body:        []byte("{\"a\":1}\n"),
		ContentType: "application/x-ndjson",
		Metadata:    map[string]string{ingest.MetaRecordCount: "1", ingest.MetaLastSequenceNumber: "1"},
	}
	if err := store.Put(ctx, obj); err != nil {
		t.Fatal(err)
	}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(obj.Key)})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(body) != string(obj.Body) || out.Metadata[ingest.MetaRecordCount] != "1" || aws.ToString(out.ContentType) != obj.ContentType {
		t.Errorf("GetObject = %q, %v, %q; want what was put", body, out.Metadata, aws.ToString(out.ContentType))
	}

	err = New(client, "no-such-bucket-s3store").Put(ctx, obj)
	if err == nil || !strings.Contains(err.Error(), "put object s3://no-such-bucket-s3store/processed/") {
		t.Errorf("Put to a missing bucket = %v; want an error naming the object", err)
	}
}

type failingClient struct{ err error }

func (f failingClient) PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return nil, f.err
}

func TestPutWrapsErrors(t *testing.T) {
	cause := errors.New("SlowDown")
	err := New(failingClient{cause}, "b").Put(context.Background(), ingest.Object{Key: "k"})
	if !errors.Is(err, cause) {
		t.Errorf("Put error = %v; want it to wrap %v", err, cause)
	}
}

func TestNewClientAddressing(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	for _, tc := range []struct {
		name, global, s3 string
		wantPathStyle    bool
	}{
		{"AWS", "", "", false},
		{"AWS_ENDPOINT_URL", "http://127.0.0.1:5000", "", true},
		{"AWS_ENDPOINT_URL_S3", "", "http://127.0.0.1:5001", true},
		{"AWS_ENDPOINT_URL_S3 at localhost", "", "http://localhost:5001", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.global != "" {
				t.Setenv("AWS_ENDPOINT_URL", tc.global)
			} else {
				os.Unsetenv("AWS_ENDPOINT_URL")
			}
			if tc.s3 != "" {
				t.Setenv("AWS_ENDPOINT_URL_S3", tc.s3)
			} else {
				os.Unsetenv("AWS_ENDPOINT_URL_S3")
			}
			cfg, err := awsconfig.Load(context.Background(), config.WithRegion("us-east-1"))
			if err != nil {
				t.Fatal(err)
			}
			o := NewClient(cfg).Options()
			if o.UsePathStyle != tc.wantPathStyle {
				t.Errorf("NewClient with %s: UsePathStyle = %v; want %v (BaseEndpoint %v)", tc.name, o.UsePathStyle, tc.wantPathStyle, aws.ToString(o.BaseEndpoint))
			}
		})
	}
}

// TestLocalhostEndpoint: an emulator at http://localhost:PORT (how moto's own
// documentation names it) is addressed by path; virtual hosting would ask for
// <bucket>.localhost, which most machines do not resolve. The same holds for a
// BaseEndpoint set by an option, as the CLI sets it for a local run.
func TestLocalhostEndpoint(t *testing.T) {
	srv := motoserver.ForTest(t)
	local := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	if local == srv.URL {
		t.Fatalf("moto server URL %s has no 127.0.0.1 to replace", srv.URL)
	}
	ctx := context.Background()
	for i, mk := range []func() *s3.Client{
		func() *s3.Client {
			t.Setenv("AWS_ENDPOINT_URL", local)
			cfg, err := awsconfig.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return NewClient(cfg)
		},
		func() *s3.Client {
			t.Setenv("AWS_ENDPOINT_URL", "")
			cfg, err := awsconfig.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return NewClient(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(local) })
		},
	} {
		client := mk()
		bucket := fmt.Sprintf("s3store-localhost-%d", i)
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatalf("CreateBucket through %s (client %d): %v", local, i, err)
		}
		if err := New(client, bucket).Put(ctx, ingest.Object{Key: "k.ndjson", Body: []byte("{}\n")}); err != nil {
			t.Errorf("Put through %s (client %d): %v", local, i, err)
		}
	}
}
