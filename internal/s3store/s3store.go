package s3store

import (
	"bytes"
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/streamlake/streamlake/internal/ingest"
)

// putObjectAPI is the part of *s3.Client the store calls.
type putObjectAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Store writes objects to one bucket. It is safe for concurrent use if its client
// is (an *s3.Client is).
type Store struct {
	client putObjectAPI
	bucket string
}

// New returns a Store writing to bucket through client.
func New(client putObjectAPI, bucket string) *Store {
	return &Store{client: client, bucket: bucket}
}

// Put stores obj; it returns once S3 has acknowledged the write. The SDK's retryer
// handles throttling and 5xx responses within the call; an error here means the
// object is not stored.
func (s *Store) Put(ctx context.Context, obj ingest.Object) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(obj.Key),
		Body:          bytes.NewReader(obj.Body),
		ContentLength: aws.Int64(int64(len(obj.Body))),
		ContentType:   aws.String(obj.ContentType),
		Metadata:      obj.Metadata,
	})
	if err != nil {
		return fmt.Errorf("put object s3://%s/%s: %w", s.bucket, obj.Key, err)
	}
	return nil
}
