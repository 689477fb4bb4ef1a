// Command iamcheck checks that each function's execution role in a SAM template
// grants exactly what the function needs, since no emulator enforces IAM:
//
//	go run ./tools/iamcheck [-template template.yaml] [-v]
//
// For every AWS::Serverless::Function it
//   - finds the function's Go main package (the ./functions/<name> package that the
//     Makefile's build-<LogicalId> target builds, as sam build runs it);
//   - lists every AWS API operation the code reachable from main calls (scan.go: call
//     sites whose callee takes an SDK *<Op>Input, found on the syntax and types of
//     the module's packages, not a hand-kept list) and maps each to IAM actions
//     (actions.go, with the exceptions AWS documents, e.g. S3 HeadObject is
//     s3:GetObject);
//   - takes the resources it calls them on from the template: the buckets, tables,
//     queues and streams its environment variables name, the bucket whose
//     notifications reach a queue it consumes, and its *_PREFIX variables for object
//     keys;
//   - adds what Lambda itself needs for the function: its log group
//     (logs:CreateLogStream, logs:PutLogEvents), X-Ray with Tracing: Active, the
//     event source mappings' reads (Kinesis: DescribeStream, DescribeStreamSummary,
//     GetRecords, GetShardIterator, ListShards; a mapping on an
//     AWS::Kinesis::StreamConsumer (enhanced fan-out) also SubscribeToShard and
//     DescribeStreamConsumer on that consumer, and any other mapping may be granted
//     SubscribeToShard on the stream's consumers; SQS: ReceiveMessage,
//     DeleteMessage, GetQueueAttributes) and sqs:SendMessage to an on-failure
//     destination;
//   - compares that with the Allow statements of the role's inline policies, action
//     by action and resource by resource: a need not granted is an error, and so is a
//     grant nothing needs (SubscribeToShard excepted, as above).
//
// The template is resolved with its parameters' defaults, or with the values of
// -parameter-overrides: `make iam-check` checks the defaults and StreamConsumer=efo,
// the one parameter that changes what a role must grant.
//
// Resources are compared symbolically: the template is resolved with each Ref and
// Fn::GetAtt kept as a token ({{GetAtt:OutputBucket.Arn}}), so a grant on another
// resource, or on a wider pattern, is told apart. Managed policies, separate
// AWS::IAM::Policy resources and Deny statements are reported as unsupported.
//
// Exit status: 0 when every role is exact, 1 when one is not, 2 for a usage error.
package main
