package samtemplate

import (
	"regexp"
	"strings"
	"testing"
)

func TestImplicitEventSourceMappings(t *testing.T) {
	const src = `
Transform: AWS::Serverless-2016-10-31
Resources:
  Stream:
    Type: AWS::Kinesis::Stream
    Properties: {ShardCount: 1}
  Queue:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: bootstrap
      Runtime: provided.al2023
      Events:
        Records: {Type: Kinesis, Properties: {Stream: !GetAtt Stream.Arn, StartingPosition: LATEST}}
        Messages: {Type: SQS, Properties: {Queue: !GetAtt Queue.Arn}}
        Hourly: {Type: Schedule, Properties: {Schedule: rate(1 hour)}}
Outputs:
  StreamMapping: {Value: !Ref FnRecords}
  QueueMapping: {Value: !Sub "uuid=${FnMessages}"}
`
	tmpl, err := load("template.yaml", []byte(src), Options{StackName: "app"})
	if err != nil {
		t.Fatal(err)
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	if got, _ := tmpl.Outputs["StreamMapping"].(string); !uuid.MatchString(got) {
		t.Errorf("Ref FnRecords = %v; want a UUID", tmpl.Outputs["StreamMapping"])
	}
	if got, _ := tmpl.Outputs["QueueMapping"].(string); !strings.HasPrefix(got, "uuid=") || !uuid.MatchString(strings.TrimPrefix(got, "uuid=")) {
		t.Errorf("Sub ${FnMessages} = %v; want uuid=<UUID>", tmpl.Outputs["QueueMapping"])
	}
	if tmpl.Outputs["StreamMapping"] == strings.TrimPrefix(tmpl.Outputs["QueueMapping"].(string), "uuid=") {
		t.Error("two mappings resolve to the same UUID")
	}
	for _, id := range []string{"FnRecords", "FnMessages"} {
		if _, ok := tmpl.Resources[id]; ok {
			t.Errorf("implicit mapping %s is in Template.Resources", id)
		}
	}

	bad := strings.Replace(src, "!Ref FnRecords", "!Ref FnHourly", 1)
	if _, err := load("template.yaml", []byte(bad), Options{StackName: "app"}); err == nil || !strings.Contains(err.Error(), `"FnHourly"`) {
		t.Errorf("Ref of a Schedule event = %v; want no such resource", err)
	}
}
