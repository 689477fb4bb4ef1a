package s3store

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// NewClient returns the S3 client the functions use, built from cfg. Addressing
// is virtual-hosted, as S3 expects, unless an endpoint is configured
// (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3 or the shared config's endpoint_url):
// then it is path-style, since an emulator such as moto server serves every
// bucket under one host name.
//
// See https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html
// and https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html.
func NewClient(cfg aws.Config) *s3.Client {
	// The option runs after the SDK resolved the service's base endpoint.
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = o.BaseEndpoint != nil })
}
