// Package pipeline runs the whole application on one machine: it stands up
// template.yaml in AWS API emulators and runs the functions' real binaries under
// the local Runtime API host (both through package localenv), produces
// sensor records into the stream (package producer), emulates the Kinesis event
// source mappings with AWS's semantics (package esm) until the stream is drained,
// runs the functions fed by SQS (the aggregator, with the S3 notifications of the
// processed objects) under their own SQS event source mappings until their
// queues are drained, and accounts for every record by reading back the
// emulator (Report), including a check of the summaries table against a
// recomputation from the processed objects.
//
// Run is a sequence of steps, one method each: setup (emulators, resources,
// build), mappings (the functions' execution environments and their event
// source mappings), production, drain, and the report (account, finish).
//
// Faults can be injected (S3 PutObject failures, function crashes and timeouts,
// poison records) to exercise the failure paths; the accounting must still show
// nothing lost and nothing duplicated. Crashes and timeouts are injected by a
// decorator of the Kinesis function's invoker (faultInjector), S3 failures by a
// proxy in front of the emulator, poison records by the production step
// (producer.Poison).
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
