package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/streamlake/streamlake/internal/summary"
)

// getObjectAPI is the part of *s3.Client that Reader calls.
type getObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

// MaxObjectBytes bounds the compressed size of an object the aggregator reads.
const MaxObjectBytes = 256 << 20

// Reader is the aggregator's summary.ObjectSource over Amazon S3 (GetObject and
// HeadObject, which the s3:GetObject permission covers). It reads any bucket its
// client may. It is safe for concurrent use if its client is (an *s3.Client is).
type Reader struct {
	client getObjectAPI
}

// NewReader returns a Reader reading through client.
func NewReader(client getObjectAPI) *Reader { return &Reader{client: client} }

// GetObject implements summary.ObjectSource. A missing key is summary.ErrNotFound.
func (o *Reader) GetObject(ctx context.Context, bucket, key string) (*summary.Object, error) {
	out, err := o.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)},
		func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	if err != nil {
		return nil, s3Error("get", bucket, key, err)
	}
	defer out.Body.Close()
	size := aws.ToInt64(out.ContentLength)
	if size > MaxObjectBytes {
		return nil, fmt.Errorf("get object s3://%s/%s: %d bytes is over the %d-byte limit", bucket, key, size, MaxObjectBytes)
	}
	var buf bytes.Buffer
	buf.Grow(int(max(size, 0)))
	if _, err := io.Copy(&buf, io.LimitReader(out.Body, MaxObjectBytes+1)); err != nil {
		return nil, fmt.Errorf("read object s3://%s/%s: %w", bucket, key, err)
	}
	if buf.Len() > MaxObjectBytes {
		return nil, fmt.Errorf("get object s3://%s/%s: over the %d-byte limit", bucket, key, MaxObjectBytes)
	}
	etag := normalizeETag(aws.ToString(out.ETag))
	if etag == "" {
		return nil, fmt.Errorf("get object s3://%s/%s: response has no ETag", bucket, key)
	}
	return &summary.Object{Bucket: bucket, Key: key, ETag: etag, Body: buf.Bytes()}, nil
}

// ObjectETag implements summary.ObjectSource with HeadObject.
func (o *Reader) ObjectETag(ctx context.Context, bucket, key string) (string, error) {
	// A HEAD response has no body to validate a checksum against.
	out, err := o.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)},
		func(o *s3.Options) { o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired })
	if err != nil {
		return "", s3Error("head", bucket, key, err)
	}
	return normalizeETag(aws.ToString(out.ETag)), nil
}

// normalizeETag strips the quotes S3 puts around ETags (notifications carry them
// without).
func normalizeETag(s string) string { return strings.Trim(s, `"`) }

func s3Error(op, bucket, key string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return fmt.Errorf("%s object s3://%s/%s: %w", op, bucket, key, summary.ErrNotFound)
		}
	}
	return fmt.Errorf("%s object s3://%s/%s: %w", op, bucket, key, err)
}
