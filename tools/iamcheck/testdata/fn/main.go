// Command fn is a fixture of the iamcheck tests: calls through a consumer's
// interface, a method reached only through lambda.Start, a transaction item, an
// operation with no IAM mapping, and code that is never reached.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

type deleteAPI interface {
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	CopyObject(ctx context.Context, in *s3.CopyObjectInput, optFns ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
}

type txAPI interface {
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

type handler struct {
	s3 deleteAPI
	db txAPI
}

// Invoke is called by lambda.Start's code only.
func (h handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if _, err := h.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}); err != nil {
		return nil, err
	}
	item := types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{}}
	_, err := h.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{item}})
	return nil, err
}

// copyObject is called by nothing: CopyObject must not be reported.
func (h handler) copyObject(ctx context.Context) error {
	_, err := h.s3.CopyObject(ctx, &s3.CopyObjectInput{})
	return err
}

// scanAll is never called either: Scan must not be reported.
func scanAll(ctx context.Context, db txAPI) error {
	_, err := db.Scan(ctx, &dynamodb.ScanInput{})
	return err
}

func main() {
	lambda.Start(handler{s3: s3.New(s3.Options{}), db: dynamodb.New(dynamodb.Options{})})
}
