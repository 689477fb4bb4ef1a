package main

import "testing"

func TestARNRegion(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:kinesis:eu-west-1:123456789012:stream/sensors":     "eu-west-1",
		"arn:aws-cn:kinesis:cn-north-1:123456789012:stream/sensors": "cn-north-1",
		"arn:aws-us-gov:sqs:us-gov-west-1:123456789012:failures":    "us-gov-west-1",
		"sensors":         "",
		"arn:aws:kinesis": "",
		"":                "",
	} {
		if got := arnRegion(in); got != want {
			t.Errorf("arnRegion(%q) = %q, want %q", in, got, want)
		}
	}
}
