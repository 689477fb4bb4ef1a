package esm

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/google/go-cmp/cmp"
)

// TestConsumerARN: a mapping whose EventSourceArn is an enhanced fan-out
// consumer ARN [S1] checks that the consumer is registered (moto's
// RegisterStreamConsumer / DescribeStreamConsumer), reads the consumer's
// stream and delivers the same events as a stream mapping: eventSourceARN and
// the on-failure record's streamArn are the stream's ARN.
func TestConsumerARN(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	url, qarn := e.queue()
	out, err := e.kin.RegisterStreamConsumer(e.ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String("processor")})
	if err != nil {
		t.Fatal(err)
	}
	consumerARN := aws.ToString(out.Consumer.ConsumerARN)
	// AWS appends ":<creation timestamp>"; moto does not. Both are accepted.
	if !strings.HasPrefix(consumerARN, arn+"/consumer/processor") {
		t.Fatalf("moto's consumer ARN %q is not <stream ARN>/consumer/<name>[:<timestamp>]", consumerARN)
	}
	puts := e.putAll(arn, records(6, 2, "efo"))
	fn := newFake(t, func(call int, b invokedBatch) (Invocation, error) {
		if b.contains(hasData(`"n":5`)) {
			return fail("poison"), nil
		}
		return Invocation{Payload: []byte("null")}, nil
	})
	cfg := withQueue(baseConfig(consumerARN), url, qarn)
	cfg.MaximumRetryAttempts = new(0)
	cfg.BisectBatchOnFunctionError = true
	m := e.mapping(cfg, fn)
	drain(t, m)
	if diff := cmp.Diff(seqsOf(puts)[:5], fn.delivered()[:5]); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	for _, b := range fn.batches() {
		for _, r := range b.event.Records {
			if r.EventSourceArn != arn {
				t.Errorf("eventSourceARN = %q; want the stream ARN %q", r.EventSourceArn, arn)
			}
		}
	}
	ofr := e.onFailureRecords(url)
	if len(ofr) != 1 || ofr[0].KinesisBatchInfo.StreamARN != arn {
		t.Errorf("on-failure records = %+v; want one with streamArn %s", ofr, arn)
	}
	checkAccounting(t, m.Stats())
}

// TestConsumerNotRegistered: a consumer ARN whose consumer is not registered
// with the stream fails Run with a clear error.
func TestConsumerNotRegistered(t *testing.T) {
	e := newEnv(t)
	arn, _ := e.stream(1)
	m := e.mapping(baseConfig(arn+"/consumer/missing:1700000000"), newFake(t, nil))
	ctx, cancel := context.WithTimeout(t.Context(), drainTimeout)
	defer cancel()
	if err := m.Run(ctx); err == nil || !strings.Contains(err.Error(), "describe stream consumer") {
		t.Errorf("Run = %v; want a describe stream consumer error", err)
	}
}
