package localenv

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolveEndpoints(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		name string
		env  map[string]string
		want map[string]string
	}{
		{"none", nil, map[string]string{}},
		{"base only", map[string]string{"AWS_ENDPOINT_URL": "http://a"},
			map[string]string{"dynamodb": "http://a", "kinesis": "http://a", "s3": "http://a", "sqs": "http://a"}},
		{"per service wins", map[string]string{"AWS_ENDPOINT_URL": "http://a", "AWS_ENDPOINT_URL_KINESIS": "http://k"},
			map[string]string{"dynamodb": "http://a", "kinesis": "http://k", "s3": "http://a", "sqs": "http://a"}},
		{"one service only", map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://d"},
			map[string]string{"dynamodb": "http://d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, ResolveEndpoints(env(tc.env))); d != "" {
				t.Errorf("ResolveEndpoints (-want +got):\n%s", d)
			}
		})
	}
}

func TestServiceEndpoint(t *testing.T) {
	e := &Env{Endpoint: "http://base", Endpoints: map[string]string{"kinesis": "http://k"}}
	if got := e.ServiceEndpoint("kinesis"); got != "http://k" {
		t.Errorf("kinesis: %s", got)
	}
	if got := e.ServiceEndpoint("lambda"); got != "http://base" {
		t.Errorf("lambda: %s; want the base endpoint", got)
	}
}
