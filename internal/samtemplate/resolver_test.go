package samtemplate

import (
	"errors"
	"strings"
	"testing"
)

// props is a ResourceRef property source for tests.
func refWith(id, typ string, props map[string]any) ResourceRef {
	return ResourceRef{LogicalID: id, Type: typ, prop: func(name string) (any, bool, error) {
		v, ok := props[name]
		return v, ok, nil
	}}
}

func TestDefaultResolverNames(t *testing.T) {
	long := "s" + strings.Repeat("x", 99)
	tests := []struct {
		name     string
		resolver DefaultResolver
		ref      ResourceRef
		want     string
	}{
		{"generated", DefaultResolver{StackName: "app"}, refWith("Stream", "AWS::Kinesis::Stream", nil), "app-Stream"},
		{"explicit name", DefaultResolver{StackName: "app"}, refWith("Stream", "AWS::Kinesis::Stream", map[string]any{"Name": "raw"}), "raw"},
		{"bucket lower case", DefaultResolver{StackName: "MyApp"}, refWith("DataBucket", "AWS::S3::Bucket", nil), "myapp-databucket"},
		{"bucket cut to 63", DefaultResolver{StackName: long}, refWith("B", "AWS::S3::Bucket", nil), strings.ToLower(long[:63])},
		{"function cut to 64", DefaultResolver{StackName: long}, refWith("F", "AWS::Lambda::Function", nil), long[:64]},
		{"fifo queue", DefaultResolver{StackName: long}, refWith("Q", "AWS::SQS::Queue", map[string]any{"FifoQueue": "true"}), long[:75] + ".fifo"},
		{"unknown type keeps name", DefaultResolver{StackName: "app"}, refWith("Thing", "Custom::Thing", nil), "app-Thing"},
		{"implicit resource", DefaultResolver{StackName: "app"}, ResourceRef{LogicalID: "FnRole", Type: "AWS::IAM::Role"}, "app-FnRole"},
		{"glue database name", DefaultResolver{StackName: "my-app"}, refWith("Db", "AWS::Glue::Database", map[string]any{"DatabaseInput": map[string]any{"Name": "my_app"}}), "my_app"},
		{"glue table name", DefaultResolver{StackName: "app"}, refWith("T", "AWS::Glue::Table", map[string]any{"TableInput": map[string]any{"Name": "readings"}}), "readings"},
		{"glue database without a name", DefaultResolver{StackName: "app"}, refWith("Db", "AWS::Glue::Database", map[string]any{"DatabaseInput": map[string]any{}}), "app-Db"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.resolver.PhysicalName(tc.ref)
			if err != nil {
				t.Fatalf("PhysicalName(%s) error: %v", tc.ref.LogicalID, err)
			}
			if got != tc.want {
				t.Errorf("PhysicalName(%s) = %q; want %q", tc.ref.LogicalID, got, tc.want)
			}
		})
	}
}

func TestDefaultResolverPartitions(t *testing.T) {
	tests := []struct {
		region, attr, typ, want string
	}{
		{"cn-north-1", "Arn", "AWS::Kinesis::Stream", "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/app-R"},
		{"us-gov-west-1", "Arn", "AWS::SQS::Queue", "arn:aws-us-gov:sqs:us-gov-west-1:123456789012:app-R"},
		{"cn-north-1", "QueueUrl", "AWS::SQS::Queue", "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/app-R"},
		{"eu-west-1", "RegionalDomainName", "AWS::S3::Bucket", "app-r.s3.eu-west-1.amazonaws.com"},
		{"eu-west-1", "Arn", "AWS::Logs::LogGroup", "arn:aws:logs:eu-west-1:123456789012:log-group:app-R:*"},
		{"eu-west-1", "Arn", "AWS::KMS::Key", "arn:aws:kms:eu-west-1:123456789012:key/" + stableUUID("app/R")},
	}
	for _, tc := range tests {
		d := DefaultResolver{StackName: "app", Region: tc.region, AccountID: DefaultAccountID}
		got, err := d.GetAtt(refWith("R", tc.typ, nil), tc.attr)
		if err != nil || got != tc.want {
			t.Errorf("GetAtt(%s R, %s) in %s = %v, %v; want %q", tc.typ, tc.attr, tc.region, got, err, tc.want)
		}
	}
}

func TestDefaultResolverUnknownAttribute(t *testing.T) {
	_, err := DefaultResolver{StackName: "app"}.GetAtt(refWith("Q", "AWS::SQS::Queue", nil), "Nope")
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `attribute "Nope" of AWS::SQS::Queue`) {
		t.Errorf("GetAtt(Q, Nope) error = %v; want an ErrUnsupported naming the attribute", err)
	}
}

// localResolver maps queues onto an emulator's URLs and keeps the rest.
type localResolver struct {
	DefaultResolver
	endpoint string
}

func (r localResolver) Ref(ref ResourceRef) (any, error) {
	if ref.Type == "AWS::SQS::Queue" {
		name, err := r.PhysicalName(ref)
		if err != nil {
			return nil, err
		}
		return r.endpoint + "/" + r.AccountID + "/" + name, nil
	}
	return r.DefaultResolver.Ref(ref)
}

func TestCustomResolver(t *testing.T) {
	res := localResolver{DefaultResolver: DefaultResolver{StackName: "local", Region: "us-east-1", AccountID: DefaultAccountID}, endpoint: "http://127.0.0.1:5000"}
	tpl := mustLoad(t, "testdata/intrinsics.yaml", Options{StackName: "local", Resolver: res})
	probe := tpl.Resources["Probe"].Properties
	for prop, want := range map[string]string{
		"RefQueue":      "http://127.0.0.1:5000/123456789012/local-Queue",
		"RefNamedQueue": "http://127.0.0.1:5000/123456789012/alpha-jobs",
		"AttQueueArn":   "arn:aws:sqs:us-east-1:123456789012:local-Queue",
		"RefStream":     "local-Stream",
	} {
		if got := probe[prop]; got != want {
			t.Errorf("Probe.%s = %v; want %q", prop, got, want)
		}
	}
}

func TestTemplatePhysicalName(t *testing.T) {
	tpl := mustLoad(t, "testdata/intrinsics.yaml", Options{StackName: "Demo"})
	for _, tc := range []struct{ id, want string }{
		{"Queue", "Demo-Queue"},
		{"NamedQueue", "alpha-jobs"},
		{"FifoQueue", "Demo-FifoQueue.fifo"},
		{"Bucket", "demo-bucket"},
		{"Fn", "Demo-Fn"},
	} {
		got, err := tpl.PhysicalName(tc.id)
		if err != nil || got != tc.want {
			t.Errorf("PhysicalName(%s) = %q, %v; want %q", tc.id, got, err, tc.want)
		}
	}
	if _, err := tpl.PhysicalName("Nope"); err == nil {
		t.Errorf("PhysicalName(Nope) succeeded; want an error")
	}
}
