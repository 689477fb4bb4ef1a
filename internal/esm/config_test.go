package esm

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	valid := func() Config {
		return Config{
			FunctionARN:       testFunctionARN,
			StreamARN:         "arn:aws:kinesis:us-east-1:123456789012:stream/s",
			StartingPosition:  StartingPositionTrimHorizon,
			InvokeIdentityArn: testRoleARN,
		}
	}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string // "" = valid
		check   func(t *testing.T, s settings)
	}{
		{name: "defaults", edit: func(*Config) {}, check: func(t *testing.T, s settings) {
			if s.batchSize != 100 || s.parallelization != 1 || s.maxRetries != infinite || s.maxAge != 0 ||
				s.maxPayload != 6291456 || s.pollInterval != time.Second || s.region != "us-east-1" || s.reportFailures ||
				s.ageCondition != "RecordAgeExceeded" {
				t.Errorf("defaults = %+v", s)
			}
		}},
		{name: "all set", edit: func(c *Config) {
			c.BatchSize, c.MaximumBatchingWindowInSeconds, c.ParallelizationFactor = 10000, 300, 10
			c.MaximumRetryAttempts, c.MaximumRecordAgeInSeconds = new(3), new(60)
			c.FunctionResponseTypes = []string{"ReportBatchItemFailures"}
		}, check: func(t *testing.T, s settings) {
			if s.batchSize != 10000 || s.window != 300*time.Second || s.parallelization != 10 || s.maxRetries != 3 ||
				s.maxAge != time.Minute || !s.reportFailures {
				t.Errorf("settings = %+v", s)
			}
		}},
		{name: "retry -1 infinite", edit: func(c *Config) { c.MaximumRetryAttempts = new(-1) }, check: func(t *testing.T, s settings) {
			if s.maxRetries != infinite {
				t.Errorf("maxRetries = %d; want infinite", s.maxRetries)
			}
		}},
		{name: "retry 10000 infinite", edit: func(c *Config) { c.MaximumRetryAttempts = new(10000) }, check: func(t *testing.T, s settings) {
			if s.maxRetries != infinite {
				t.Errorf("maxRetries = %d; want infinite", s.maxRetries)
			}
		}},
		{name: "retry 0", edit: func(c *Config) { c.MaximumRetryAttempts = new(0) }, check: func(t *testing.T, s settings) {
			if s.maxRetries != 0 {
				t.Errorf("maxRetries = %d; want 0", s.maxRetries)
			}
		}},
		{name: "age -1", edit: func(c *Config) { c.MaximumRecordAgeInSeconds = new(-1) }},
		{name: "age max", edit: func(c *Config) { c.MaximumRecordAgeInSeconds = new(604800) }},
		{name: "at timestamp", edit: func(c *Config) {
			c.StartingPosition, c.StartingPositionTimestamp = StartingPositionAtTimestamp, now.Add(-time.Hour)
		}},
		{name: "latest", edit: func(c *Config) { c.StartingPosition = StartingPositionLatest }},
		{name: "aws-cn partition", edit: func(c *Config) {
			c.FunctionARN = "arn:aws-cn:lambda:cn-north-1:123456789012:function:processor"
			c.StreamARN = "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/s"
			c.InvokeIdentityArn = "arn:aws-cn:iam::123456789012:role/r"
		}, check: func(t *testing.T, s settings) {
			if s.region != "cn-north-1" || s.StreamARN != "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/s" {
				t.Errorf("region %q, stream %q; want cn-north-1 and the aws-cn stream", s.region, s.StreamARN)
			}
		}},
		{name: "aws-us-gov consumer", edit: func(c *Config) {
			c.StreamARN = "arn:aws-us-gov:kinesis:us-gov-west-1:123456789012:stream/s/consumer/c:1700000000"
		}, check: func(t *testing.T, s settings) {
			if s.region != "us-gov-west-1" || s.StreamARN != "arn:aws-us-gov:kinesis:us-gov-west-1:123456789012:stream/s" || s.consumerName != "c" {
				t.Errorf("region %q, stream %q, consumer %q; want us-gov-west-1, the stream, c", s.region, s.StreamARN, s.consumerName)
			}
		}},
		{name: "stream without partition", edit: func(c *Config) { c.StreamARN = "arn::kinesis:us-east-1:1:stream/s" }, wantErr: "is not an ARN"},
		{name: "stream too few sections", edit: func(c *Config) { c.StreamARN = "arn:aws:kinesis:us-east-1:stream/s" }, wantErr: "is not an ARN"},
		{name: "stream without stream/", edit: func(c *Config) { c.StreamARN = "arn:aws:kinesis:us-east-1:1:s" }, wantErr: "not a Kinesis stream ARN"},
		{name: "stream without name", edit: func(c *Config) { c.StreamARN = "arn:aws:kinesis:us-east-1:1:stream/" }, wantErr: "not a Kinesis stream ARN"},
		{name: "function without function:", edit: func(c *Config) { c.FunctionARN = "arn:aws:lambda:us-east-1:1:layer:x" }, wantErr: "not a Lambda function ARN"},
		{name: "destination not an ARN", edit: func(c *Config) {
			c.DestinationConfig.OnFailure = &OnFailureDestination{Destination: "q", QueueURL: "http://q"}
		}, wantErr: "DestinationConfig.OnFailure.Destination: \"q\" is not an ARN"},
		{name: "sqs destination", edit: func(c *Config) {
			c.DestinationConfig.OnFailure = &OnFailureDestination{Destination: "arn:aws:sqs:us-east-1:123456789012:q", QueueURL: "http://q"}
		}},

		{name: "no function", edit: func(c *Config) { c.FunctionARN = "" }, wantErr: "FunctionARN is required"},
		{name: "function not lambda", edit: func(c *Config) { c.FunctionARN = "arn:aws:sqs:us-east-1:1:q" }, wantErr: "not a Lambda function ARN"},
		{name: "stream not arn", edit: func(c *Config) { c.StreamARN = "mystream" }, wantErr: "is not an ARN"},
		{name: "stream consumer", edit: func(c *Config) { c.StreamARN += "/consumer/c:1" }},
		{name: "consumer without name", edit: func(c *Config) { c.StreamARN += "/consumer/:1" }, wantErr: "not an enhanced fan-out consumer ARN"},
		{name: "stream not kinesis", edit: func(c *Config) { c.StreamARN = "arn:aws:dynamodb:us-east-1:1:table/t" }, wantErr: "not a Kinesis stream ARN"},
		{name: "region mismatch", edit: func(c *Config) { c.Region = "eu-west-1" }, wantErr: "differs from the stream's region"},
		{name: "no starting position", edit: func(c *Config) { c.StartingPosition = "" }, wantErr: "StartingPosition is required"},
		{name: "bad starting position", edit: func(c *Config) { c.StartingPosition = "EARLIEST" }, wantErr: `"EARLIEST" is not`},
		{name: "at timestamp without time", edit: func(c *Config) { c.StartingPosition = StartingPositionAtTimestamp }, wantErr: "needs StartingPositionTimestamp"},
		{name: "timestamp in future", edit: func(c *Config) {
			c.StartingPosition, c.StartingPositionTimestamp = StartingPositionAtTimestamp, now.Add(time.Hour)
		}, wantErr: "is in the future"},
		{name: "timestamp without at timestamp", edit: func(c *Config) { c.StartingPositionTimestamp = now }, wantErr: "only valid with StartingPosition AT_TIMESTAMP"},
		{name: "batch size too big", edit: func(c *Config) { c.BatchSize = 10001 }, wantErr: "BatchSize 10001 is outside 1–10000"},
		{name: "batch size negative", edit: func(c *Config) { c.BatchSize = -1 }, wantErr: "BatchSize -1"},
		{name: "window too big", edit: func(c *Config) { c.MaximumBatchingWindowInSeconds = 301 }, wantErr: "MaximumBatchingWindowInSeconds 301"},
		{name: "window negative", edit: func(c *Config) { c.MaximumBatchingWindowInSeconds = -1 }, wantErr: "MaximumBatchingWindowInSeconds -1"},
		{name: "parallelization too big", edit: func(c *Config) { c.ParallelizationFactor = 11 }, wantErr: "ParallelizationFactor 11"},
		{name: "retries too small", edit: func(c *Config) { c.MaximumRetryAttempts = new(-2) }, wantErr: "MaximumRetryAttempts -2"},
		{name: "retries too big", edit: func(c *Config) { c.MaximumRetryAttempts = new(10001) }, wantErr: "MaximumRetryAttempts 10001"},
		{name: "age 0 rejected", edit: func(c *Config) { c.MaximumRecordAgeInSeconds = new(0) }, wantErr: "minimum valid value is 60s"},
		{name: "age 59 rejected", edit: func(c *Config) { c.MaximumRecordAgeInSeconds = new(59) }, wantErr: "MaximumRecordAgeInSeconds 59 is too small"},
		{name: "age too big", edit: func(c *Config) { c.MaximumRecordAgeInSeconds = new(604801) }, wantErr: "MaximumRecordAgeInSeconds 604801"},
		{name: "age -2", edit: func(c *Config) { c.MaximumRecordAgeInSeconds = new(-2) }, wantErr: "MaximumRecordAgeInSeconds -2"},
		{name: "bad response type", edit: func(c *Config) { c.FunctionResponseTypes = []string{"ReportItemFailures"} }, wantErr: `"ReportItemFailures" is not ReportBatchItemFailures`},
		{name: "two response types", edit: func(c *Config) {
			c.FunctionResponseTypes = []string{ReportBatchItemFailures, ReportBatchItemFailures}
		}, wantErr: "at most 1"},
		{name: "sns destination", edit: func(c *Config) {
			c.DestinationConfig.OnFailure = &OnFailureDestination{Destination: "arn:aws:sns:us-east-1:1:topic", QueueURL: "x"}
		}, wantErr: "only SQS on-failure destinations"},
		{name: "destination without url", edit: func(c *Config) {
			c.DestinationConfig.OnFailure = &OnFailureDestination{Destination: "arn:aws:sqs:us-east-1:1:q"}
		}, wantErr: "QueueURL is required"},
		{name: "empty destination", edit: func(c *Config) { c.DestinationConfig.OnFailure = &OnFailureDestination{} }, wantErr: "Destination is empty"},
		{name: "fifo destination", edit: func(c *Config) {
			c.DestinationConfig.OnFailure = &OnFailureDestination{Destination: "arn:aws:sqs:us-east-1:123456789012:q.fifo", QueueURL: "http://q.fifo"}
		}, wantErr: `DestinationConfig.OnFailure.Destination "arn:aws:sqs:us-east-1:123456789012:q.fifo" is a FIFO queue`},
		{name: "standard queue named fifo", edit: func(c *Config) {
			c.DestinationConfig.OnFailure = &OnFailureDestination{Destination: "arn:aws:sqs:us-east-1:123456789012:orders-fifo", QueueURL: "http://q"}
		}},
		{name: "no role", edit: func(c *Config) { c.InvokeIdentityArn = "" }, wantErr: "InvokeIdentityArn"},
		{name: "role not iam", edit: func(c *Config) { c.InvokeIdentityArn = testFunctionARN }, wantErr: "not an IAM role ARN"},
		{name: "negative poll", edit: func(c *Config) { c.PollInterval = -time.Second }, wantErr: "PollInterval -1s is negative"},
		{name: "negative backoff", edit: func(c *Config) { c.RetryBackoff = -time.Second }, wantErr: "RetryBackoff -1s is negative"},
		{name: "negative payload", edit: func(c *Config) { c.MaxPayloadBytes = -1 }, wantErr: "MaxPayloadBytes -1 is negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid()
			tc.edit(&cfg)
			s, err := cfg.validate(now)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("validate() = %v; want no error", err)
				}
				if tc.check != nil {
					tc.check(t, s)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("validate() = %v; want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestConfigValidateReportsAllProblems(t *testing.T) {
	_, err := Config{BatchSize: -5}.validate(time.Now())
	if err == nil {
		t.Fatal("validate(empty config) = nil; want an error")
	}
	for _, want := range []string{"FunctionARN is required", "StreamARN is required", "StartingPosition is required", "BatchSize -5", "InvokeIdentityArn"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("validate(empty config) = %q; want it to contain %q", err, want)
		}
	}
}

func TestNewRequiresClients(t *testing.T) {
	cfg := Config{FunctionARN: testFunctionARN, StreamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/s",
		StartingPosition: StartingPositionLatest, InvokeIdentityArn: testRoleARN}
	inv := newFake(t, nil)
	if _, err := New(cfg, nil, nil, inv); err == nil || !strings.Contains(err.Error(), "Kinesis client is required") {
		t.Errorf("New(nil kinesis) = %v; want a Kinesis client error", err)
	}
	cfg.DestinationConfig.OnFailure = &OnFailureDestination{Destination: "arn:aws:sqs:us-east-1:123456789012:q", QueueURL: "http://q"}
	if _, err := New(cfg, nopKinesis{}, nil, inv); err == nil || !strings.Contains(err.Error(), "SQS client is required") {
		t.Errorf("New(nil sqs with destination) = %v; want an SQS client error", err)
	}
	if _, err := New(cfg, nopKinesis{}, nopSQS{}, nil); err == nil || !strings.Contains(err.Error(), "Invoker is required") {
		t.Errorf("New(nil invoker) = %v; want an Invoker error", err)
	}
}
