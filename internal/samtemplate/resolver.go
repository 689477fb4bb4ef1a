package samtemplate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Resolver decides what Ref and Fn::GetAtt of a resource return. Load calls it for
// every reference it resolves, from one goroutine. Implementations may wrap
// [DefaultResolver] and change only what they need (an emulator's queue URLs, say).
type Resolver interface {
	// Ref returns the value of {"Ref": r.LogicalID}.
	Ref(r ResourceRef) (any, error)
	// GetAtt returns the value of {"Fn::GetAtt": [r.LogicalID, attribute]}.
	GetAtt(r ResourceRef, attribute string) (any, error)
}

// ResourceRef identifies a referenced resource for a [Resolver]. Its zero value is not
// useful; Load creates them.
type ResourceRef struct {
	// LogicalID is the resource's key in the Resources section.
	LogicalID string
	// Type is the resource type, e.g. "AWS::SQS::Queue". The implicit execution role
	// SAM creates for a function without Role ("<Function>Role") has type
	// "AWS::IAM::Role".
	Type string
	// prop resolves one property on demand (nil for implicit resources).
	prop func(name string) (any, bool, error)
}

// Property returns the resolved value of the resource's top-level property name and
// whether the template sets it. Properties are resolved on demand, so a resolver can
// read a resource's name property (BucketName, QueueName, ...) without resolving
// the rest of the resource; a reference cycle is reported as an error.
func (r ResourceRef) Property(name string) (any, bool, error) {
	if r.prop == nil {
		return nil, false, nil
	}
	return r.prop(name)
}

// nameProperty maps a resource type to the property that sets its physical name.
var nameProperty = map[string]string{
	"AWS::Kinesis::Stream":             "Name",
	"AWS::Kinesis::StreamConsumer":     "ConsumerName",
	"AWS::SQS::Queue":                  "QueueName",
	"AWS::S3::Bucket":                  "BucketName",
	"AWS::DynamoDB::Table":             "TableName",
	"AWS::Serverless::SimpleTable":     "TableName",
	"AWS::SNS::Topic":                  "TopicName",
	"AWS::Lambda::Function":            "FunctionName",
	"AWS::Serverless::Function":        "FunctionName",
	"AWS::IAM::Role":                   "RoleName",
	"AWS::IAM::ManagedPolicy":          "ManagedPolicyName",
	"AWS::Logs::LogGroup":              "LogGroupName",
	"AWS::CloudWatch::Alarm":           "AlarmName",
	"AWS::CloudWatch::Dashboard":       "DashboardName",
	"AWS::KMS::Alias":                  "AliasName",
	"AWS::Events::Rule":                "Name",
	"AWS::StepFunctions::StateMachine": "StateMachineName",
	"AWS::Serverless::StateMachine":    "Name",
}

// nestedNameProperty maps a resource type whose name is a member of one of its
// properties to that property and member (Ref of a Glue database or table
// returns its name).
var nestedNameProperty = map[string][2]string{
	"AWS::Glue::Database": {"DatabaseInput", "Name"},
	"AWS::Glue::Table":    {"TableInput", "Name"},
}

// nameLimit is the longest physical name AWS accepts per type; lower is true where
// the name must be lower case (S3 bucket names).
var nameLimit = map[string]struct {
	max   int
	lower bool
}{
	"AWS::S3::Bucket":           {63, true},
	"AWS::SQS::Queue":           {80, false},
	"AWS::Lambda::Function":     {64, false},
	"AWS::Serverless::Function": {64, false},
	"AWS::IAM::Role":            {64, false},
	"AWS::Kinesis::Stream":      {128, false},
	"AWS::SNS::Topic":           {256, false},
	"AWS::DynamoDB::Table":      {255, false},
	"AWS::CloudWatch::Alarm":    {255, false},
	"AWS::Events::Rule":         {64, false},
}

// DefaultResolver gives resources the names and ARNs a stack would give them, with
// deterministic names instead of CloudFormation's random suffixes: a resource's own
// name property when the template sets one, else "<StackName>-<LogicalID>" (lower
// case and at most 63 characters for S3 buckets; cut to each service's length limit
// and a ".fifo" suffix kept for FIFO queues). ARNs are built from Partition, Region
// and AccountID; SQS queue URLs use the regional sqs.<region>.<suffix> endpoint.
//
// A DefaultResolver is a value; it is safe for concurrent use.
type DefaultResolver struct {
	StackName string
	Region    string
	AccountID string
	// Partition is "aws" etc.; "" derives it from Region.
	Partition string
}

func (d DefaultResolver) partition() string {
	if d.Partition != "" {
		return d.Partition
	}
	return partitionOf(d.Region)
}

// PhysicalName returns the resource's name: its name property when set, else
// "<StackName>-<LogicalID>" adjusted to the service's naming rules.
func (d DefaultResolver) PhysicalName(r ResourceRef) (string, error) {
	if prop, ok := nameProperty[r.Type]; ok {
		v, set, err := r.Property(prop)
		if err != nil {
			return "", err
		}
		if set {
			if !isScalar(v) {
				return "", fmt.Errorf("%s %s is a %s; want a string", r.LogicalID, prop, kindOf(v))
			}
			return scalarString(v), nil
		}
	}
	if np, ok := nestedNameProperty[r.Type]; ok {
		v, set, err := r.Property(np[0])
		if err != nil {
			return "", err
		}
		if m, _ := v.(map[string]any); set && m != nil {
			if name, ok := m[np[1]]; ok {
				if !isScalar(name) {
					return "", fmt.Errorf("%s %s.%s is a %s; want a string", r.LogicalID, np[0], np[1], kindOf(name))
				}
				return scalarString(name), nil
			}
		}
	}
	name := d.StackName + "-" + r.LogicalID
	limit, ok := nameLimit[r.Type]
	if !ok {
		return name, nil
	}
	fifo := false
	if r.Type == "AWS::SQS::Queue" {
		v, set, err := r.Property("FifoQueue")
		if err != nil {
			return "", err
		}
		if set {
			fifo, _ = boolValue(v)
		}
	}
	maxLen := limit.max
	if fifo {
		maxLen -= len(".fifo")
	}
	if limit.lower {
		name = strings.ToLower(name)
	}
	if len(name) > maxLen {
		name = strings.TrimRight(name[:maxLen], "-")
	}
	if fifo {
		name += ".fifo"
	}
	return name, nil
}

// Ref implements [Resolver].
func (d DefaultResolver) Ref(r ResourceRef) (any, error) {
	name, err := d.PhysicalName(r)
	if err != nil {
		return nil, err
	}
	switch r.Type {
	case "AWS::SQS::Queue":
		return d.queueURL(name), nil
	case "AWS::SNS::Topic":
		return d.arn("sns", name), nil
	case "AWS::IAM::ManagedPolicy":
		return fmt.Sprintf("arn:%s:iam::%s:policy/%s", d.partition(), d.AccountID, name), nil
	case "AWS::KMS::Key":
		return d.stableID(r.LogicalID), nil
	case "AWS::Lambda::EventSourceMapping":
		return d.stableID(r.LogicalID), nil
	}
	return name, nil
}

// GetAtt implements [Resolver] for the attributes of the resource types a stream
// pipeline uses; other attributes are an error.
func (d DefaultResolver) GetAtt(r ResourceRef, attribute string) (any, error) {
	name, err := d.PhysicalName(r)
	if err != nil {
		return nil, err
	}
	p, region, acct := d.partition(), d.Region, d.AccountID
	switch r.Type + "." + attribute {
	case "AWS::Kinesis::Stream.Arn":
		return d.arn("kinesis", "stream/"+name), nil
	case "AWS::Kinesis::StreamConsumer.ConsumerARN", "AWS::Kinesis::StreamConsumer.StreamARN",
		"AWS::Kinesis::StreamConsumer.ConsumerName":
		// Consumer ARNs are <stream ARN>/consumer/<name>:<creation time in epoch
		// seconds>; the local one has creation time 0.
		stream, set, err := r.Property("StreamARN")
		if err != nil {
			return nil, err
		}
		if !set || !isScalar(stream) {
			return nil, fmt.Errorf("%s has no StreamARN string", r.LogicalID)
		}
		switch attribute {
		case "StreamARN":
			return scalarString(stream), nil
		case "ConsumerName":
			return name, nil
		}
		return scalarString(stream) + "/consumer/" + name + ":0", nil
	case "AWS::SQS::Queue.Arn":
		return d.arn("sqs", name), nil
	case "AWS::SQS::Queue.QueueName":
		return name, nil
	case "AWS::SQS::Queue.QueueUrl":
		return d.queueURL(name), nil
	case "AWS::S3::Bucket.Arn":
		return fmt.Sprintf("arn:%s:s3:::%s", p, name), nil
	case "AWS::S3::Bucket.DomainName":
		return name + ".s3." + urlSuffix(region), nil
	case "AWS::S3::Bucket.DualStackDomainName":
		return name + ".s3.dualstack." + region + "." + urlSuffix(region), nil
	case "AWS::S3::Bucket.RegionalDomainName":
		return name + ".s3." + region + "." + urlSuffix(region), nil
	case "AWS::S3::Bucket.WebsiteURL":
		return "http://" + name + ".s3-website-" + region + "." + urlSuffix(region), nil
	case "AWS::DynamoDB::Table.Arn", "AWS::Serverless::SimpleTable.Arn":
		return d.arn("dynamodb", "table/"+name), nil
	case "AWS::DynamoDB::Table.StreamArn":
		return d.arn("dynamodb", "table/"+name+"/stream/1970-01-01T00:00:00.000"), nil
	case "AWS::SNS::Topic.TopicArn":
		return d.arn("sns", name), nil
	case "AWS::SNS::Topic.TopicName":
		return name, nil
	case "AWS::Lambda::Function.Arn", "AWS::Serverless::Function.Arn":
		return d.arn("lambda", "function:"+name), nil
	case "AWS::IAM::Role.Arn":
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", p, acct, name), nil
	case "AWS::IAM::Role.RoleId":
		return "AROA" + strings.ToUpper(d.stableID(r.LogicalID)[:17]), nil
	case "AWS::IAM::ManagedPolicy.PolicyArn":
		return fmt.Sprintf("arn:%s:iam::%s:policy/%s", p, acct, name), nil
	case "AWS::KMS::Key.Arn":
		return d.arn("kms", "key/"+d.stableID(r.LogicalID)), nil
	case "AWS::KMS::Key.KeyId":
		return d.stableID(r.LogicalID), nil
	case "AWS::Logs::LogGroup.Arn":
		return d.arn("logs", "log-group:"+name+":*"), nil
	case "AWS::CloudWatch::Alarm.Arn":
		return d.arn("cloudwatch", "alarm:"+name), nil
	case "AWS::Events::Rule.Arn":
		return d.arn("events", "rule/"+name), nil
	case "AWS::StepFunctions::StateMachine.Arn", "AWS::Serverless::StateMachine.Arn":
		return d.arn("states", "stateMachine:"+name), nil
	case "AWS::StepFunctions::StateMachine.Name", "AWS::Serverless::StateMachine.Name":
		return name, nil
	}
	return nil, fmt.Errorf("cannot resolve Fn::GetAtt %s.%s: attribute %q of %s: %w", r.LogicalID, attribute, attribute, r.Type, ErrUnsupported)
}

func (d DefaultResolver) arn(service, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", d.partition(), service, d.Region, d.AccountID, resource)
}

func (d DefaultResolver) queueURL(name string) string {
	return fmt.Sprintf("https://sqs.%s.%s/%s/%s", d.Region, urlSuffix(d.Region), d.AccountID, name)
}

// stableID derives a UUID-shaped identifier from the stack and logical ID, so that
// generated IDs (KMS key IDs, ...) are the same on every run.
func (d DefaultResolver) stableID(logicalID string) string {
	return stableUUID(d.StackName + "/" + logicalID)
}

func stableUUID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// partitionOf returns the AWS partition of a region.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	}
	return "aws"
}

// urlSuffix returns the AWS::URLSuffix of a region.
func urlSuffix(region string) string {
	if strings.HasPrefix(region, "cn-") {
		return "amazonaws.com.cn"
	}
	return "amazonaws.com"
}
