package esm

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Invoker runs one synchronous (RequestResponse) invocation of the function with
// payload as the event. err is for host problems only (the function could not be
// run at all, or ctx ended); such attempts are retried without counting against
// MaximumRetryAttempts, as AWS does for errors before invocation [S3]. A function
// error (a returned error, a panic or crash "Runtime.ExitError", a timeout
// "Sandbox.Timedout", "Function.ResponseSizeTooLarge") is reported in the
// Invocation with a nil err.
//
// A KinesisMapping calls Invoke concurrently from every lane of every shard, so an
// Invoker must be safe for concurrent use.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) (Invocation, error)
}

// Invocation is the outcome of one invocation. The zero value is a successful
// invocation that returned nothing (treated as a JSON null response).
type Invocation struct {
	// Payload is the function's response body (the JSON the handler returned).
	Payload []byte
	// FunctionError is "" for success, else the error type (e.g. "errorString",
	// "Runtime.ExitError", "Sandbox.Timedout").
	FunctionError string
	// ErrorMessage is the function's error message, for logs.
	ErrorMessage string
	// RequestID is the invocation's request id, if the host knows it; it becomes
	// requestContext.requestId of an on-failure record. "" means a random UUID
	// is used.
	RequestID string
}

// Matcher decides whether a record passes the mapping's FilterCriteria; data is
// the record's decoded Kinesis data blob. Kinesis ESMs filter only on data [S5].
// ok=false means the record is filtered out; filter is the index of the filter
// that matched (for logs). Match is called from the shard readers concurrently, so
// it must be safe for concurrent use.
type Matcher interface {
	Match(data []byte) (ok bool, filter int)
}

// KinesisAPI is the part of the Kinesis Data Streams client a KinesisMapping uses
// (*kinesis.Client satisfies it). Calls always name the stream by StreamARN.
type KinesisAPI interface {
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, optFns ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
	// DescribeStreamConsumer is called only for a mapping whose EventSourceArn
	// is an enhanced fan-out consumer.
	DescribeStreamConsumer(ctx context.Context, in *kinesis.DescribeStreamConsumerInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamConsumerOutput, error)
}

// SQSAPI is the part of the SQS client used to deliver on-failure records
// (*sqs.Client satisfies it).
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// SQSReceiveAPI is the part of the SQS client an SQSMapping uses (*sqs.Client
// satisfies it).
type SQSReceiveAPI interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}
