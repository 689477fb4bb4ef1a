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
// emulators, which Run starts detached so that they survive the kill: the moto
// processes of motoserver.Layout (S3 and SQS together, Kinesis, DynamoDB), each
// service reached through its AWS_ENDPOINT_URL_<SERVICE> (run.json's "endpoints";
// EmulatorEndpoints). StopEmulator stops them and waits for them to exit.
//
// The report counts each emulator's 5xx answers (Report.EmulatorErrors): faults are
// injected in front of the emulators, so every 5xx is an emulator failure.
package pipeline
