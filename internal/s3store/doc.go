// Package s3store is the pipeline's adapter to Amazon S3, over the smallest
// client interfaces it calls: Store is the processor's ingest.Sink (one
// PutObject per object), Reader the aggregator's summary.ObjectSource (GetObject
// and HeadObject), and NewClient builds the *s3.Client both functions use.
//
// See https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html,
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html and
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html.
package s3store
