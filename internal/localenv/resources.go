package localenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamlake/streamlake/internal/s3store"
	"github.com/streamlake/streamlake/internal/samtemplate"
)

// OnDemandShards is the shard count a local ON_DEMAND stream gets (AWS starts an
// on-demand stream with 4 MB/s of write capacity, that is 4 shards).
const OnDemandShards = 4

// Resources are the physical names the template's resources got in the emulator,
// by logical ID.
type Resources struct {
	Streams map[string]string // stream name
	Buckets map[string]string // bucket name
	Queues  map[string]string // queue URL
	Tables  map[string]string // table name
}

// CreateResources creates the template's Kinesis streams, SQS queues (dead-letter
// queues first), S3 buckets (with versioning and queue notifications) and DynamoDB
// tables in the emulator, keeping any that already exist.
func (e *Env) CreateResources(ctx context.Context) (*Resources, error) {
	r := &Resources{Streams: map[string]string{}, Buckets: map[string]string{}, Queues: map[string]string{}, Tables: map[string]string{}}
	byType := map[string][]samtemplate.Resource{}
	for _, id := range sortedIDs(e.Template.Resources) {
		res := e.Template.Resources[id]
		byType[res.Type] = append(byType[res.Type], res)
	}
	for _, res := range byType["AWS::Kinesis::Stream"] {
		name, err := e.createStream(ctx, res)
		if err != nil {
			return nil, fmt.Errorf("create stream %s: %w", res.LogicalID, err)
		}
		r.Streams[res.LogicalID] = name
	}
	for _, res := range byType["AWS::Kinesis::StreamConsumer"] {
		if err := e.createStreamConsumer(ctx, res); err != nil {
			return nil, fmt.Errorf("create stream consumer %s: %w", res.LogicalID, err)
		}
	}
	queues := byType["AWS::SQS::Queue"]
	// Queues without a RedrivePolicy first: they may be another's dead-letter queue.
	sort.SliceStable(queues, func(i, j int) bool {
		_, ri := queues[i].Properties["RedrivePolicy"]
		_, rj := queues[j].Properties["RedrivePolicy"]
		return !ri && rj
	})
	for _, res := range queues {
		url, err := e.createQueue(ctx, res)
		if err != nil {
			return nil, fmt.Errorf("create queue %s: %w", res.LogicalID, err)
		}
		r.Queues[res.LogicalID] = url
	}
	for _, res := range byType["AWS::DynamoDB::Table"] {
		name, err := e.createTable(ctx, res)
		if err != nil {
			return nil, fmt.Errorf("create table %s: %w", res.LogicalID, err)
		}
		r.Tables[res.LogicalID] = name
	}
	for _, res := range byType["AWS::S3::Bucket"] {
		name, err := e.createBucket(ctx, res)
		if err != nil {
			return nil, fmt.Errorf("create bucket %s: %w", res.LogicalID, err)
		}
		r.Buckets[res.LogicalID] = name
	}
	return r, nil
}

func sortedIDs(m map[string]samtemplate.Resource) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (e *Env) physicalName(res samtemplate.Resource) (string, error) {
	return e.Template.PhysicalName(res.LogicalID)
}

// createStreamConsumer registers an enhanced fan-out consumer
// (AWS::Kinesis::StreamConsumer) with the stream; one already registered is
// kept.
func (e *Env) createStreamConsumer(ctx context.Context, res samtemplate.Resource) error {
	name, _ := res.Properties["ConsumerName"].(string)
	streamARN, _ := res.Properties["StreamARN"].(string)
	if name == "" || streamARN == "" {
		return errors.New("ConsumerName and StreamARN must be strings")
	}
	client := kinesis.NewFromConfig(e.AWS)
	_, err := client.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(streamARN), ConsumerName: aws.String(name)})
	var inUse *kintypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return err
	}
	return nil
}

func (e *Env) createStream(ctx context.Context, res samtemplate.Resource) (string, error) {
	name, err := e.physicalName(res)
	if err != nil {
		return "", err
	}
	shards, err := IntProperty(res.Properties, "ShardCount", 0)
	if err != nil {
		return "", err
	}
	if mode, _ := res.Properties["StreamModeDetails"].(map[string]any); mode != nil && mode["StreamMode"] == "ON_DEMAND" || shards == 0 {
		shards = OnDemandShards
	}
	client := kinesis.NewFromConfig(e.AWS)
	_, err = client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(int32(shards))})
	var inUse *kintypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return "", err
	}
	if hours, err := IntProperty(res.Properties, "RetentionPeriodHours", 24); err == nil && hours > 24 {
		_, _ = client.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String(name), RetentionPeriodHours: aws.Int32(int32(hours))})
	}
	w := kinesis.NewStreamExistsWaiter(client, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 100 * time.Millisecond })
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, 30*time.Second); err != nil {
		return "", err
	}
	return name, nil
}

func (e *Env) createQueue(ctx context.Context, res samtemplate.Resource) (string, error) {
	name, err := e.physicalName(res)
	if err != nil {
		return "", err
	}
	attrs := map[string]string{}
	for _, k := range []string{"VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds", "MaximumMessageSize", "FifoQueue", "ContentBasedDeduplication"} {
		if v, ok := res.Properties[k]; ok {
			attrs[k] = fmt.Sprint(v)
		}
	}
	if rp, ok := res.Properties["RedrivePolicy"]; ok {
		b, err := json.Marshal(rp)
		if err != nil {
			return "", err
		}
		attrs["RedrivePolicy"] = string(b)
	}
	out, err := sqs.NewFromConfig(e.AWS).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.QueueUrl), nil
}

func (e *Env) createTable(ctx context.Context, res samtemplate.Resource) (string, error) {
	name, err := e.physicalName(res)
	if err != nil {
		return "", err
	}
	var in dynamodb.CreateTableInput
	b, err := json.Marshal(map[string]any{
		"AttributeDefinitions":   res.Properties["AttributeDefinitions"],
		"KeySchema":              res.Properties["KeySchema"],
		"GlobalSecondaryIndexes": res.Properties["GlobalSecondaryIndexes"],
	})
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return "", fmt.Errorf("table schema: %w", err)
	}
	in.TableName = aws.String(name)
	in.BillingMode = ddbtypes.BillingModePayPerRequest
	client := dynamodb.NewFromConfig(e.AWS)
	_, err = client.CreateTable(ctx, &in)
	var inUse *ddbtypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return "", err
	}
	return name, nil
}

func (e *Env) createBucket(ctx context.Context, res samtemplate.Resource) (string, error) {
	name, err := e.physicalName(res)
	if err != nil {
		return "", err
	}
	client := s3store.NewClient(e.AWS)
	_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	var owned *s3types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return "", err
	}
	if vc, _ := res.Properties["VersioningConfiguration"].(map[string]any); vc != nil && vc["Status"] == "Enabled" {
		if _, err := client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  aws.String(name),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
		}); err != nil {
			return "", fmt.Errorf("enable versioning: %w", err)
		}
	}
	if err := e.putNotifications(ctx, client, name, res); err != nil {
		return "", fmt.Errorf("notifications: %w", err)
	}
	return name, nil
}

// putNotifications applies NotificationConfiguration.QueueConfigurations.
func (e *Env) putNotifications(ctx context.Context, client *s3.Client, bucket string, res samtemplate.Resource) error {
	nc, _ := res.Properties["NotificationConfiguration"].(map[string]any)
	qcs, _ := nc["QueueConfigurations"].([]any)
	if len(qcs) == 0 {
		return nil
	}
	var conf s3types.NotificationConfiguration
	for i, q := range qcs {
		m, _ := q.(map[string]any)
		queueARN, _ := m["Queue"].(string)
		event, _ := m["Event"].(string)
		if queueARN == "" || event == "" {
			return fmt.Errorf("QueueConfigurations[%d]: Queue and Event are required", i)
		}
		qc := s3types.QueueConfiguration{QueueArn: aws.String(queueARN), Events: []s3types.Event{s3types.Event(event)}}
		if rules := filterRules(m["Filter"]); len(rules) > 0 {
			qc.Filter = &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: rules}}
		}
		conf.QueueConfigurations = append(conf.QueueConfigurations, qc)
	}
	_, err := client.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String(bucket), NotificationConfiguration: &conf})
	return err
}

func filterRules(f any) []s3types.FilterRule {
	m, _ := f.(map[string]any)
	key, _ := m["S3Key"].(map[string]any)
	rules, _ := key["Rules"].([]any)
	var out []s3types.FilterRule
	for _, r := range rules {
		rm, _ := r.(map[string]any)
		name, _ := rm["Name"].(string)
		value, _ := rm["Value"].(string)
		out = append(out, s3types.FilterRule{Name: s3types.FilterRuleName(strings.ToLower(name)), Value: aws.String(value)})
	}
	return out
}

func durationSeconds(s int) time.Duration { return time.Duration(s) * time.Second }
