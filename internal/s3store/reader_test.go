package s3store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/streamlake/streamlake/internal/summary"
)

func TestReaderAgainstMoto(t *testing.T) {
	ctx := context.Background()
	bucket := "s3store-reader-test"
	client := motoBucket(t, bucket)
	key := "processed/year=2026/month=11/day=21/hour=13/shardId-000000000000-1.ndjson"
	body := []byte("{\"a\":1}\n")
	put, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	wantETag := strings.Trim(aws.ToString(put.ETag), `"`)
	if wantETag == "" || wantETag == aws.ToString(put.ETag) {
		t.Fatalf("PutObject ETag = %q; want a quoted ETag", aws.ToString(put.ETag))
	}

	r := NewReader(client)
	obj, err := r.GetObject(ctx, bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	if obj.Bucket != bucket || obj.Key != key || obj.ETag != wantETag || !bytes.Equal(obj.Body, body) {
		t.Errorf("GetObject = %+v; want bucket %s, key %s, ETag %s (no quotes), body %q", obj, bucket, key, wantETag, body)
	}
	etag, err := r.ObjectETag(ctx, bucket, key)
	if err != nil || etag != wantETag {
		t.Errorf("ObjectETag = %q, %v; want %q", etag, err, wantETag)
	}

	missing := "processed/no-such-object.ndjson"
	if _, err := r.GetObject(ctx, bucket, missing); !errors.Is(err, summary.ErrNotFound) || !strings.Contains(err.Error(), "get object s3://"+bucket+"/"+missing) {
		t.Errorf("GetObject(missing) = %v; want summary.ErrNotFound naming the object", err)
	}
	if _, err := r.ObjectETag(ctx, bucket, missing); !errors.Is(err, summary.ErrNotFound) || !strings.Contains(err.Error(), "head object s3://"+bucket+"/"+missing) {
		t.Errorf("ObjectETag(missing) = %v; want summary.ErrNotFound naming the object", err)
	}
	if _, err := r.GetObject(ctx, "no-such-bucket-s3store-reader", key); err == nil || errors.Is(err, summary.ErrNotFound) {
		t.Errorf("GetObject(missing bucket) = %v; want an error other than ErrNotFound", err)
	}
}

// fakeGetter answers GetObject and HeadObject with fixed responses.
type fakeGetter struct {
	get  *s3.GetObjectOutput
	head *s3.HeadObjectOutput
	err  error
}

func (f fakeGetter) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return f.get, f.err
}

func (f fakeGetter) HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return f.head, f.err
}

type failingBody struct{ err error }

func (b failingBody) Read([]byte) (int, error) { return 0, b.err }
func (failingBody) Close() error               { return nil }

func TestReaderFailures(t *testing.T) {
	cause := errors.New("SlowDown")
	body := func(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
	for _, tc := range []struct {
		name string
		f    fakeGetter
		want string
	}{
		{"client error", fakeGetter{err: cause}, "get object s3://b/k: SlowDown"},
		{"declared size over the limit", fakeGetter{get: &s3.GetObjectOutput{Body: body(""), ContentLength: aws.Int64(MaxObjectBytes + 1), ETag: aws.String(`"e"`)}}, "over the 268435456-byte limit"},
		{"body fails", fakeGetter{get: &s3.GetObjectOutput{Body: failingBody{cause}, ETag: aws.String(`"e"`)}}, "read object s3://b/k: SlowDown"},
		{"no ETag", fakeGetter{get: &s3.GetObjectOutput{Body: body("{}\n")}}, "response has no ETag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(tc.f).GetObject(context.Background(), "b", "k")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("GetObject = %v; want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := NewReader(fakeGetter{err: cause}).ObjectETag(context.Background(), "b", "k"); !errors.Is(err, cause) {
		t.Errorf("ObjectETag error = %v; want it to wrap %v", err, cause)
	}
}
