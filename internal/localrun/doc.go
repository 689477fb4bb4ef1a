// Package localrun is what a local run (`streamlake local`) leaves for the other
// commands and for the user's own tools: which emulator serves each AWS service,
// the region, the local stack's name and its outputs (stream, bucket, queues,
// table), under the names template.yaml's Outputs give them.
//
// It is kept in WorkDir/session.json (.local/session.json by default). The
// commands that talk to AWS (summaries, redrive, produce) read it when the user
// gave no AWS configuration of their own, so that a local run can be inspected
// without flags; [Session.Exports] are the environment variables that point the
// AWS CLI and the SDKs at the same emulator.
//
// Endpoints are kept per service because the SDKs and the AWS CLI resolve an
// endpoint per service (AWS_ENDPOINT_URL_<SERVICE>, falling back to
// AWS_ENDPOINT_URL): see
// https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html.
package localrun
