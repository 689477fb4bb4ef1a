package s3store

import (
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// NewClient returns the S3 client the functions and the developer CLI use, built
// from cfg with optFns. Addressing is virtual-hosted, as S3 expects, unless an
// endpoint is configured (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3, the shared
// config's endpoint_url, or an optFn's BaseEndpoint): then it is path-style,
// since an emulator such as moto server serves every bucket under one host name
// (and <bucket>.localhost, what virtual hosting makes of http://localhost:5000,
// does not resolve on most machines; the SDK uses path-style for an IP address
// by itself).
//
// See https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html
// and https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html.
//
// The addressing option runs last, after optFns and after the SDK resolved the
// service's base endpoint, so an optFn's UsePathStyle does not stay.
func NewClient(cfg aws.Config, optFns ...func(*s3.Options)) *s3.Client {
	pathStyle := func(o *s3.Options) { o.UsePathStyle = o.BaseEndpoint != nil }
	return s3.NewFromConfig(cfg, slices.Concat(optFns, []func(*s3.Options){pathStyle})...)
}
