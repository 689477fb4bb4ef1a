package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/streamlake/streamlake/internal/esm"
	"github.com/streamlake/streamlake/internal/kinesisreshard"
	"github.com/streamlake/streamlake/internal/localenv"
)

// mappings prepares the event source mappings: the Kinesis function in its
// execution environments behind the fault injection, with its Kinesis mapping;
// and the functions fed by SQS (the aggregator), each with its own environments
// and SQS mapping.
func (r *run) mappings(ctx context.Context) error {
	if err := r.processorMapping(ctx); err != nil {
		return err
	}
	if err := r.sqsMappings(ctx); err != nil {
		return err
	}
	r.rep.Bucket = r.fn.Environment["BUCKET_NAME"]
	r.rep.Function.SetupSeconds = time.Since(r.started).Seconds()
	return nil
}

// processorMapping prepares the Kinesis function and its mapping. The mapping
// invokes it through the fault injection (faultInjector) and, for a run that
// reshards, the order check.
func (r *run) processorMapping(ctx context.Context) error {
	o := r.opts
	fnLog, err := os.Create(filepath.Join(r.logDir, r.fn.LogicalID+".log"))
	if err != nil {
		return err
	}
	r.onClose(func() { fnLog.Close() })
	r.counts = &faultCounts{}
	env := map[string]string{}
	if o.Faults.S3FailureRate > 0 {
		proxy, err := startS3FaultProxy(r.st.endpoint("s3"), o.Faults.S3FailureRate, newLockedRand(o.Faults.Seed, 1), r.counts)
		if err != nil {
			return err
		}
		r.onClose(proxy.close)
		env["AWS_ENDPOINT_URL_S3"] = proxy.url
		env["AWS_MAX_ATTEMPTS"] = "1"
	}
	mcfg, matcher, err := r.lenv.KinesisMappingConfig(ctx, r.fn, r.event)
	if err != nil {
		return err
	}
	r.matcher = matcher
	mcfg.PollInterval = o.PollInterval
	mcfg.CheckpointFile = filepath.Join(o.WorkDir, "checkpoints", r.fn.LogicalID+"-"+r.event.Name+".json")
	if err := os.MkdirAll(filepath.Dir(mcfg.CheckpointFile), 0o755); err != nil {
		return err
	}
	mcfg.Logger = slog.New(slog.NewTextHandler(r.logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The mapping's EventSourceArn may be an enhanced fan-out consumer's.
	r.streamARN = esm.StreamARNOf(mcfg.StreamARN)
	summary, err := r.kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(r.streamARN)})
	if err != nil {
		return fmt.Errorf("stream %s: %w", streamNameOf(r.streamARN), err)
	}
	shards := int(aws.ToInt32(summary.StreamDescriptionSummary.OpenShardCount))
	if o.ReshardTo > 0 && shards != o.ReshardTo {
		// Fail now, not at the reshard in the middle of the run.
		if err := kinesisreshard.CheckTarget(shards, o.ReshardTo); err != nil {
			return fmt.Errorf("--to-shards: %w", err)
		}
	}
	envs := min(max(shards*max(mcfg.ParallelizationFactor, 1), 1), maxEnvironments)
	if r.function, err = r.lenv.NewFunction(r.fn, r.binary, env, fnLog, envs); err != nil {
		return err
	}
	r.onClose(func() { r.function.Close() })
	r.rep.Function.Environments = envs
	var inv esm.Invoker = &faultInjector{next: r.function, faults: o.Faults, rng: newLockedRand(o.Faults.Seed, 2), counts: r.counts}
	if o.ReshardAt > 0 {
		r.order = newOrderCheck(inv)
		inv = r.order
		mcfg.DiscoveryInterval = max(o.PollInterval, 100*time.Millisecond)
	}
	if r.mapping, err = esm.New(mcfg, r.kin, r.sqs, inv); err != nil {
		return fmt.Errorf("event source mapping %s.%s: %w", r.fn.LogicalID, r.event.Name, err)
	}
	if d := mcfg.DestinationConfig.OnFailure; d != nil {
		r.rep.FailureQueueURL = d.QueueURL
	}
	return nil
}

// sqsMappings prepares the functions fed by SQS (the aggregator) and their
// mappings. Their DynamoDB requests go through a serializing proxy unless the
// emulator isolates transactions itself (see startSerialProxy).
func (r *run) sqsMappings(ctx context.Context) error {
	dynamoURL := ""
	if !localenv.Faithful(r.st.endpoint("dynamodb")) {
		dynamo, err := startSerialProxy(r.st.endpoint("dynamodb"))
		if err != nil {
			return err
		}
		r.onClose(dynamo.close)
		dynamoURL = dynamo.url
	}
	consumers, err := startSQSConsumers(ctx, r.lenv, r.opts, r.logDir, dynamoURL, r.logw, r.sqs)
	if err != nil {
		return err
	}
	r.consumers = consumers
	r.onClose(func() { closeConsumers(consumers) })
	return nil
}
