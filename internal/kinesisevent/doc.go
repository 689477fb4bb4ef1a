// Package kinesisevent builds Kinesis events as the Lambda event source mapping
// delivers them to a function (events.KinesisEvent from aws-lambda-go), for the
// sample files in events/ and for tests and tools that need realistic events without
// a stream.
//
// The event shape follows the Lambda developer guide
// (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html, "Example event"):
// one shard, standard base64 data, eventID "<shardId>:<sequenceNumber>",
// eventSource "aws:kinesis", eventName "aws:kinesis:record", versions "1.0", the
// function's execution role as invokeIdentityArn, and approximateArrivalTimestamp in
// epoch seconds with millisecond precision.
//
// Encode and AppendRecord write an event as Lambda does: compact, each record's
// members in the order of the Lambda service's events (kinesis first), which is
// not aws-lambda-go's field order that json.Marshal of an events.KinesisEvent
// gives; Marshal indents that for the files in events/. The local event source
// mapping (package esm) sends records written by AppendRecord.
//
// Sequence numbers are 56-digit decimal strings that increase with each record, like
// the ones AWS assigns (compare them as big integers, never as strings of different
// lengths). Everything is derived from the input: the same records and options
// always give the same bytes, and nothing reads the clock.
package kinesisevent
