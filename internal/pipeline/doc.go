// Package pipeline runs the whole application on one machine: it stands up
// template.yaml in an AWS API emulator (package localenv), runs the functions'
// real binaries under the local Runtime API host (package lambdahost), produces
// sensor records into the stream (package producer), emulates the Kinesis event
// source mappings with AWS's semantics (package esm) until the stream is drained,
// runs the functions fed by SQS (the aggregator, with the S3 notifications of the
// processed objects) under their own SQS event source mappings until their
// queues are drained, and accounts for every record by reading back the
// emulator (Report), including a check of the summaries table against a
// recomputation from the processed objects.
//
// Faults can be injected (S3 PutObject failures, function crashes and timeouts,
// poison records) to exercise the failure paths; the accounting must still show
// nothing lost and nothing duplicated.
//
// A run keeps its state in WorkDir (run.json, checkpoints/): a run that is killed
// can be started again and resumes from the mappings' checkpoints against the same
// emulator, which Run starts detached so that it survives the kill.
package pipeline
