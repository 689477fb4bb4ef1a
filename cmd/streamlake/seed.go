package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/streamlake/streamlake/internal/lambdahost"
	"github.com/streamlake/streamlake/internal/localenv"
)

// seed runs a Kinesis event through the template's Kinesis function in the
// emulator, as `invoke` would, so that what it writes exists before the
// invocation the user asked for: an S3 notification event (the aggregator's)
// names objects that only the processor writes. A seed that fails, or that
// leaves records unprocessed, is an error: the invocation after it would not see
// what the user expects.
func seed(ctx context.Context, e *env, lenv *localenv.Env, sd seedEvent) error {
	ev, _, err := pickKinesisEvent(lenv.Template, "", "")
	if err != nil {
		return fmt.Errorf("--seed %s: %w", sd.path, err)
	}
	fn, err := lenv.Function(ev.Function)
	if err != nil {
		return fmt.Errorf("--seed %s: %w", sd.path, err)
	}
	var kev events.KinesisEvent
	if err := json.Unmarshal(sd.event, &kev); err != nil || len(kev.Records) == 0 || kev.Records[0].EventSource != "aws:kinesis" {
		return fmt.Errorf("--seed %s: not a Kinesis event (the seed runs through %s)", sd.path, fn.LogicalID)
	}
	binary, err := lenv.Build(ctx, fn)
	if err != nil {
		return fmt.Errorf("--seed %s: %w", sd.path, err)
	}
	host := lambdahost.New(lenv.HostConfig(fn, binary, nil, e.stderr))
	res, err := host.Invoke(ctx, sd.event)
	host.Close()
	if err != nil {
		return fmt.Errorf("--seed %s: invoke %s: %w", sd.path, fn.LogicalID, err)
	}
	if res.Err != nil {
		return fmt.Errorf("--seed %s: %s failed: %s: %s", sd.path, fn.LogicalID, res.Err.Type, res.Err.Message)
	}
	var resp events.KinesisEventResponse
	if err := json.Unmarshal(res.Payload, &resp); err != nil {
		return fmt.Errorf("--seed %s: %s answered %q: %w", sd.path, fn.LogicalID, res.Payload, err)
	}
	if len(resp.BatchItemFailures) > 0 {
		return fmt.Errorf("--seed %s: %s did not process the records from %s on (batchItemFailures)", sd.path, fn.LogicalID, resp.BatchItemFailures[0].ItemIdentifier)
	}
	fmt.Fprintf(e.stderr, "streamlake invoke: seeded with %s through %s (%d records)\n", sd.path, fn.LogicalID, len(kev.Records))
	return nil
}

// warnMissingObjects warns, before the invocation, about the objects an event's
// S3 notifications (direct, or in SQS message bodies) name that the emulator
// does not have: the aggregator would log and skip a missing object, or
// acknowledge unread the notification of a bucket other than its BUCKET_NAME,
// which is rarely what a sample invocation means to show.
func warnMissingObjects(ctx context.Context, e *env, client *s3.Client, lenv *localenv.Env, event []byte) {
	for _, r := range s3Notifications(event) {
		key := r.S3.Object.URLDecodedKey
		_, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(r.S3.Bucket.Name), Key: aws.String(key)})
		var nf *s3types.NotFound
		if err == nil || !errors.As(err, &nf) {
			continue
		}
		fmt.Fprintf(e.stderr, "streamlake invoke: warning: the event names s3://%s/%s, which the emulator does not have "+
			"(the local stack's buckets: %v); seed it with --seed <Kinesis event> (events/sqs-s3-notification.json: --seed events/kinesis-sensor-batch.json)\n",
			r.S3.Bucket.Name, key, bucketNames(lenv))
	}
}

// s3Notifications returns the S3 event records of an S3 event or of the S3
// events in an SQS event's message bodies.
func s3Notifications(event []byte) []events.S3EventRecord {
	var sqsEv events.SQSEvent
	if json.Unmarshal(event, &sqsEv) == nil && len(sqsEv.Records) > 0 && sqsEv.Records[0].EventSource == "aws:sqs" {
		var out []events.S3EventRecord
		for _, m := range sqsEv.Records {
			var s3Ev events.S3Event
			if json.Unmarshal([]byte(m.Body), &s3Ev) == nil {
				for _, r := range s3Ev.Records {
					if r.EventSource == "aws:s3" {
						out = append(out, r)
					}
				}
			}
		}
		return out
	}
	var s3Ev events.S3Event
	if json.Unmarshal(event, &s3Ev) == nil && len(s3Ev.Records) > 0 && s3Ev.Records[0].EventSource == "aws:s3" {
		return s3Ev.Records
	}
	return nil
}

func bucketNames(lenv *localenv.Env) []string {
	var out []string
	for _, r := range lenv.Template.Resources {
		if r.Type == "AWS::S3::Bucket" {
			if name, err := lenv.Template.PhysicalName(r.LogicalID); err == nil {
				out = append(out, name)
			}
		}
	}
	return out
}
