// Package onfailure holds the wire types of the invocation record Lambda sends to
// an SQS (or SNS) on-failure destination for records a Kinesis event source
// mapping discarded: requestContext, responseContext, version, timestamp and
// KinesisBatchInfo, with AWS's exact JSON field names and order.
//
// It has two users: the event source mapping emulator (internal/esm), which
// writes these records, and the redrive tool (internal/redrive), which reads
// them back from the destination queue. It holds types and constants only, no
// I/O, so that a production tool need not import the emulator for them.
//
// The shape follows "Retain discarded batch records" (cited as [S3]):
// https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html,
// and, where that page is silent, the records real AWS accounts produced in
// LocalStack's snapshot tests
// (tests/aws/services/lambda_/event_source_mapping/test_lambda_integration_kinesis.snapshot.json).
package onfailure
