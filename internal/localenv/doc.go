// Package localenv stands up a SAM template on one machine: it resolves
// template.yaml (with samconfig.toml parameters), points the AWS SDK at an emulator
// (the AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_<SERVICE> the user set, or the moto
// processes of motoserver.Layout it starts), creates the
// template's streams, queues, buckets (with their notifications) and tables there,
// builds the template's Go functions for this machine and runs them in execution
// environments of package lambdahost (Function, an esm.Invoker that can also
// end an invocation with an injected crash or timeout), and turns the
// functions' Kinesis and SQS events into the configurations of their emulated
// event source mappings (KinesisMappingConfig, SQSMappingConfig, package esm).
//
// It is also the one way to the emulator processes of a local run
// (StartDetached, StopEmulators, Alive, Faithful, DescribeEmulators) and
// records the run's session file (SaveSession, package localrun).
//
// It is what `streamlake invoke` and `streamlake local` share. Creation is
// idempotent: resources that already exist are kept, so a local pipeline that was
// stopped can be started again on the same emulator and resume.
package localenv
