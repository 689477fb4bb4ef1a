package dynamostore_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/motoserver"
)

// env is one test's emulated AWS: a fresh table and bucket on the shared moto
// server.
type env struct {
	mu     sync.Mutex // serializes DynamoDB requests (see serialClient)
	ddb    *dynamodb.Client
	s3     *s3.Client
	table  string
	bucket string
}

var seq atomic.Int64

func newEnv(tb testing.TB) *env {
	tb.Helper()
	motoserver.ForTest(tb)
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	n := seq.Add(1)
	e := &env{
		ddb:    dynamodb.NewFromConfig(cfg),
		s3:     s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		table:  fmt.Sprintf("summaries-%s-%d", sanitize(tb.Name()), n),
		bucket: fmt.Sprintf("agg-%d-%d", n, len(tb.Name())),
	}
	_, err = e.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(e.table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		tb.Fatalf("create table: %v", err)
	}
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(e.bucket)}); err != nil {
		tb.Fatalf("create bucket: %v", err)
	}
	return e
}

func sanitize(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	if b.Len() > 100 {
		return b.String()[:100]
	}
	return b.String()
}
