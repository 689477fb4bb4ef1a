// Package s3store adapts Amazon S3 to the processor's ingest.Sink: one PutObject
// per object, over the smallest client interface it needs.
//
// See https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html.
package s3store
