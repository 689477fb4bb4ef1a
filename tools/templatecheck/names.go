package templatecheck

import (
	"fmt"
	"sort"
	"strings"

	"github.com/streamlake/streamlake/internal/samtemplate"
)

// nameLimit is the longest value a service accepts for a resource property that
// names something.
type nameLimit struct {
	resourceType string
	// path is the property path, dot-separated.
	path string
	max  int
}

// nameLimits lists the name properties this project's templates may set, with the
// limits of the services' APIs (CloudFormation resource reference, each type's
// property page).
var nameLimits = []nameLimit{
	{"AWS::Lambda::Function", "FunctionName", 64},
	{"AWS::Serverless::Function", "FunctionName", 64},
	{"AWS::CloudWatch::Alarm", "AlarmName", 255},
	{"AWS::CloudWatch::Dashboard", "DashboardName", 255},
	{"AWS::Athena::NamedQuery", "Name", 128},
	{"AWS::Logs::LogGroup", "LogGroupName", 512},
	{"AWS::KMS::Alias", "AliasName", 256},
	{"AWS::SNS::Topic", "TopicName", 256},
	{"AWS::SNS::Topic", "DisplayName", 100},
	{"AWS::Glue::Database", "DatabaseInput.Name", 255},
	{"AWS::Glue::Table", "TableInput.Name", 255},
	{"AWS::S3::Bucket", "BucketName", 63},
	{"AWS::SQS::Queue", "QueueName", 80},
	{"AWS::DynamoDB::Table", "TableName", 255},
	{"AWS::Kinesis::Stream", "Name", 128},
	{"AWS::Kinesis::StreamConsumer", "ConsumerName", 128},
	{"AWS::IAM::Role", "RoleName", 64},
	{"AWS::IAM::Role", "Description", 1000},
}

// longestStackName is a stack name of CloudFormation's maximum length (128).
var longestStackName = "s" + strings.Repeat("x", 127)

// nameProblems returns, sorted, every name property of tpl's resources that is
// longer than its service allows.
func nameProblems(tpl *samtemplate.Template) []string {
	var out []string
	for id, r := range tpl.Resources {
		for _, l := range nameLimits {
			if r.Type != l.resourceType {
				continue
			}
			v, ok := samtemplate.Lookup(r.Properties, l.path)
			if !ok {
				continue
			}
			s, ok := v.(string)
			if !ok {
				out = append(out, fmt.Sprintf("%s (%s) %s is a %T; want a string", id, r.Type, l.path, v))
				continue
			}
			if len(s) > l.max {
				out = append(out, fmt.Sprintf("%s (%s) %s is %d characters with stack name %.10s… (%d characters); at most %d: %q",
					id, r.Type, l.path, len(s), tpl.StackName, len(tpl.StackName), l.max, s))
			}
		}
	}
	sort.Strings(out)
	return out
}
