package main

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// supportedTypes is SAR's "List of Supported AWS Resources"
// (https://docs.aws.amazon.com/serverlessrepo/latest/devguide/list-supported-resources.html),
// as published in the AWS documentation repository
// (awsdocs/aws-serverlessrepo-developer-guide, doc_source/list-supported-resources.md,
// commit 83c2822c), plus the types the live page lists ahead of it (Amazon MQ,
// API Gateway Account). SAR refuses a template with any other type. When AWS adds a
// type, add it here with the date of the page it came from.
var supportedTypes = setOf(
	"AWS::AccessAnalyzer::Analyzer",
	"AWS::AmazonMQ::Broker", "AWS::AmazonMQ::Configuration", "AWS::AmazonMQ::ConfigurationAssociation",
	"AWS::ApiGateway::Account", "AWS::ApiGateway::ApiKey", "AWS::ApiGateway::Authorizer",
	"AWS::ApiGateway::BasePathMapping", "AWS::ApiGateway::ClientCertificate", "AWS::ApiGateway::Deployment",
	"AWS::ApiGateway::DocumentationPart", "AWS::ApiGateway::DocumentationVersion", "AWS::ApiGateway::DomainName",
	"AWS::ApiGateway::GatewayResponse", "AWS::ApiGateway::Method", "AWS::ApiGateway::Model",
	"AWS::ApiGateway::RequestValidator", "AWS::ApiGateway::Resource", "AWS::ApiGateway::RestApi",
	"AWS::ApiGateway::Stage", "AWS::ApiGateway::UsagePlan", "AWS::ApiGateway::UsagePlanKey",
	"AWS::ApiGateway::VpcLink",
	"AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::ApiMapping", "AWS::ApiGatewayV2::Authorizer",
	"AWS::ApiGatewayV2::DomainName", "AWS::ApiGatewayV2::Deployment", "AWS::ApiGatewayV2::Integration",
	"AWS::ApiGatewayV2::IntegrationResponse", "AWS::ApiGatewayV2::Model", "AWS::ApiGatewayV2::Route",
	"AWS::ApiGatewayV2::RouteResponse", "AWS::ApiGatewayV2::Stage",
	"AWS::AppSync::ApiKey", "AWS::AppSync::DataSource", "AWS::AppSync::GraphQLApi",
	"AWS::AppSync::GraphQLSchema", "AWS::AppSync::Resolver",
	"AWS::ApplicationAutoScaling::ScalableTarget", "AWS::ApplicationAutoScaling::ScalingPolicy",
	"AWS::Athena::NamedQuery",
	"AWS::CertificateManager::Certificate",
	"AWS::CloudFormation::CustomResource", "AWS::CloudFormation::Interface", "AWS::CloudFormation::Macro",
	"AWS::CloudFormation::WaitConditionHandle",
	"AWS::CloudFront::CloudFrontOriginAccessIdentity", "AWS::CloudFront::Distribution",
	"AWS::CloudFront::StreamingDistribution",
	"AWS::CloudTrail::Trail",
	"AWS::CloudWatch::Alarm", "AWS::CloudWatch::AnomalyDetector", "AWS::CloudWatch::Dashboard",
	"AWS::CloudWatch::InsightRule",
	"AWS::CodeBuild::Project", "AWS::CodeCommit::Repository",
	"AWS::CodePipeline::CustomActionType", "AWS::CodePipeline::Pipeline", "AWS::CodePipeline::Webhook",
	"AWS::Cognito::IdentityPool", "AWS::Cognito::IdentityPoolRoleAttachment", "AWS::Cognito::UserPool",
	"AWS::Cognito::UserPoolClient", "AWS::Cognito::UserPoolDomain", "AWS::Cognito::UserPoolGroup",
	"AWS::Cognito::UserPoolResourceServer", "AWS::Cognito::UserPoolUser",
	"AWS::Cognito::UserPoolUserToGroupAttachment",
	"AWS::Config::AggregationAuthorization", "AWS::Config::ConfigRule", "AWS::Config::ConfigurationAggregator",
	"AWS::Config::ConfigurationRecorder", "AWS::Config::DeliveryChannel", "AWS::Config::RemediationConfiguration",
	"AWS::DataPipeline::Pipeline",
	"AWS::DynamoDB::Table",
	"AWS::EC2::SecurityGroup",
	"AWS::ECR::Repository",
	"AWS::Elasticsearch::Domain",
	"AWS::Events::EventBusPolicy", "AWS::Events::Rule",
	"AWS::EventSchemas::Discoverer", "AWS::EventSchemas::Registry", "AWS::EventSchemas::Schema",
	"AWS::Glue::Classifier", "AWS::Glue::Connection", "AWS::Glue::Crawler", "AWS::Glue::Database",
	"AWS::Glue::DevEndpoint", "AWS::Glue::Job", "AWS::Glue::Partition", "AWS::Glue::Table", "AWS::Glue::Trigger",
	"AWS::IAM::Group", "AWS::IAM::InstanceProfile", "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::Role",
	"AWS::IoT::Certificate", "AWS::IoT::Policy", "AWS::IoT::PolicyPrincipalAttachment", "AWS::IoT::Thing",
	"AWS::IoT::ThingPrincipalAttachment", "AWS::IoT::TopicRule",
	"AWS::KMS::Alias", "AWS::KMS::Key",
	"AWS::Kinesis::Stream", "AWS::Kinesis::StreamConsumer", "AWS::Kinesis::Streams",
	"AWS::KinesisAnalytics::Application", "AWS::KinesisAnalytics::ApplicationOutput",
	"AWS::KinesisFirehose::DeliveryStream",
	"AWS::Lambda::Alias", "AWS::Lambda::EventInvokeConfig", "AWS::Lambda::EventSourceMapping",
	"AWS::Lambda::Function", "AWS::Lambda::LayerVersion", "AWS::Lambda::LayerVersionPermission",
	"AWS::Lambda::Permission", "AWS::Lambda::Version",
	"AWS::Logs::Destination", "AWS::Logs::LogGroup", "AWS::Logs::LogStream", "AWS::Logs::MetricFilter",
	"AWS::Logs::SubscriptionFilter",
	"AWS::Route53::HealthCheck", "AWS::Route53::HostedZone", "AWS::Route53::RecordSet",
	"AWS::Route53::RecordSetGroup",
	"AWS::S3::Bucket", "AWS::S3::BucketPolicy",
	"AWS::SNS::Subscription", "AWS::SNS::Topic", "AWS::SNS::TopicPolicy",
	"AWS::SQS::Queue", "AWS::SQS::QueuePolicy",
	"AWS::SSM::Association", "AWS::SSM::Document", "AWS::SSM::MaintenanceWindowTask", "AWS::SSM::Parameter",
	"AWS::SSM::PatchBaseline", "AWS::SSM::ResourceDataSync",
	"AWS::Serverless::Api", "AWS::Serverless::Application", "AWS::Serverless::Function",
	"AWS::Serverless::HttpApi", "AWS::Serverless::LayerVersion", "AWS::Serverless::SimpleTable",
	"AWS::Serverless::StateMachine",
	"AWS::StepFunctions::Activity", "AWS::StepFunctions::StateMachine",
)

func setOf(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

// pollingEvents are the SAM event types that become an AWS::Lambda::EventSourceMapping
// named <Function><Event>.
var pollingEvents = setOf("Kinesis", "DynamoDB", "SQS", "MSK", "MQ", "SelfManagedKafka", "DocumentDB")

// expandResources lists the declared resources and the ones the SAM transform
// generates from them, following "AWS CloudFormation resources generated by AWS SAM"
// (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-specification-generated-resources.html).
// A test compares the result with the SAM translator's output.
func (c *checker) expandResources() []resource {
	resources, ok := c.doc.root["Resources"].(map[string]any)
	if !ok {
		c.errorf("Resources", "missing or not a mapping")
		return nil
	}
	globals := map[string]any{}
	if g, ok := c.doc.root["Globals"].(map[string]any); ok {
		if f, ok := g["Function"].(map[string]any); ok {
			globals = f
		}
	}
	var out []resource
	once := map[string]bool{} // generated resources shared by all functions
	for _, id := range slices.Sorted(maps.Keys(resources)) {
		path := joinKey("Resources", id)
		def, ok := resources[id].(map[string]any)
		if !ok {
			c.errorf(path, "is %s; want a mapping with Type", describe(resources[id]))
			continue
		}
		typ, ok := def["Type"].(string)
		if !ok {
			c.errorf(joinKey(path, "Type"), "missing or not a string")
			continue
		}
		props, _ := def["Properties"].(map[string]any)
		out = append(out, resource{LogicalID: id, Type: typ, props: props})
		gen := func(suffix, typ, why string) *resource {
			out = append(out, resource{LogicalID: id + suffix, Type: typ, GeneratedBy: id, Why: why})
			return &out[len(out)-1]
		}
		switch typ {
		case "AWS::Serverless::Function":
			c.expandFunction(path, id, props, globals, gen, once, &out)
		case "AWS::Serverless::SimpleTable":
			gen("", "AWS::DynamoDB::Table", "the table itself")
		case "AWS::Serverless::LayerVersion":
			gen("*", "AWS::Lambda::LayerVersion", "the layer version itself (logical ID ends in a content hash)")
		case "AWS::Serverless::Application":
			gen("", "AWS::CloudFormation::Stack", "the nested application's stack")
		case "AWS::Serverless::Api":
			gen("", "AWS::ApiGateway::RestApi", "the REST API itself")
			gen("Deployment*", "AWS::ApiGateway::Deployment", "the API deployment (logical ID ends in a hash)")
			gen(stageID(props), "AWS::ApiGateway::Stage", "the API stage")
		case "AWS::Serverless::HttpApi":
			gen("", "AWS::ApiGatewayV2::Api", "the HTTP API itself")
			gen(httpStageID(props), "AWS::ApiGatewayV2::Stage", "the API stage")
		case "AWS::Serverless::StateMachine":
			gen("", "AWS::StepFunctions::StateMachine", "the state machine itself")
			if !has(props, "Role") && !has(props, "RoleArn") {
				r := gen("Role", "AWS::IAM::Role", "execution role: the state machine has no Role")
				r.rolePolicies = "policies from the state machine's Policies"
			}
			if has(props, "Events") {
				c.errorf(joinKey(path, "Properties.Events"), "sarcheck does not model the resources SAM generates for state machine events; extend resources.go")
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out
}

func (c *checker) expandFunction(path, id string, props, globals map[string]any,
	gen func(suffix, typ, why string) *resource, once map[string]bool, out *[]resource) {
	prop := func(name string) (any, bool) {
		if v, ok := props[name]; ok {
			return v, true
		}
		v, ok := globals[name]
		return v, ok
	}
	gen("", "AWS::Lambda::Function", "the function itself")
	if !has(props, "Role") {
		r := gen("Role", "AWS::IAM::Role", "execution role: the function has no Role property")
		r.rolePolicies, r.policyTemplatesOnly = rolePolicies(props, prop)
	}
	if alias, ok := prop("AutoPublishAlias"); ok {
		gen("Version*", "AWS::Lambda::Version", "AutoPublishAlias publishes a version (logical ID ends in a code hash)")
		name := "*"
		if s, ok := alias.(string); ok {
			name = s
		}
		gen("Alias"+name, "AWS::Lambda::Alias", "AutoPublishAlias")
	}
	if dp, ok := prop("DeploymentPreference"); ok {
		if !once["ServerlessDeploymentApplication"] {
			once["ServerlessDeploymentApplication"] = true
			*out = append(*out, resource{LogicalID: "ServerlessDeploymentApplication", Type: "AWS::CodeDeploy::Application", GeneratedBy: id, Why: "DeploymentPreference (one per template)"})
		}
		gen("DeploymentGroup", "AWS::CodeDeploy::DeploymentGroup", "DeploymentPreference")
		if m, _ := dp.(map[string]any); !has(m, "Role") && !once["CodeDeployServiceRole"] {
			once["CodeDeployServiceRole"] = true
			*out = append(*out, resource{LogicalID: "CodeDeployServiceRole", Type: "AWS::IAM::Role", GeneratedBy: id, Why: "DeploymentPreference without Role (one per template)", rolePolicies: "the AWSCodeDeployRoleForLambda managed policy"})
		}
	}
	if eic, ok := prop("EventInvokeConfig"); ok {
		gen("EventInvokeConfig", "AWS::Lambda::EventInvokeConfig", "EventInvokeConfig")
		m, _ := eic.(map[string]any)
		dc, _ := m["DestinationConfig"].(map[string]any)
		for _, when := range []string{"OnFailure", "OnSuccess"} {
			d, _ := dc[when].(map[string]any)
			if has(d, "Destination") {
				continue
			}
			switch d["Type"] {
			case "SQS":
				gen("EventInvokeConfig"+when+"Queue", "AWS::SQS::Queue", "EventInvokeConfig "+when+" SQS destination without Destination")
			case "SNS":
				gen("EventInvokeConfig"+when+"Topic", "AWS::SNS::Topic", "EventInvokeConfig "+when+" SNS destination without Destination")
			}
		}
	}
	if fu, ok := prop("FunctionUrlConfig"); ok {
		gen("Url", "AWS::Lambda::Url", "FunctionUrlConfig")
		if m, _ := fu.(map[string]any); m["AuthType"] == "NONE" {
			gen("UrlPublicPermissions", "AWS::Lambda::Permission", "FunctionUrlConfig with AuthType NONE (anyone may call the URL)")
			gen("URLInvokeAllowPublicAccess", "AWS::Lambda::Permission", "FunctionUrlConfig with AuthType NONE (anyone may invoke through the URL)")
		}
	}
	events, _ := props["Events"].(map[string]any)
	for _, ev := range slices.Sorted(maps.Keys(events)) {
		evPath := joinKey(joinKey(path, "Properties.Events"), ev)
		def, _ := events[ev].(map[string]any)
		typ, _ := def["Type"].(string)
		ep, _ := def["Properties"].(map[string]any)
		why := typ + " event " + ev
		switch {
		case pollingEvents[typ]:
			gen(ev, "AWS::Lambda::EventSourceMapping", why)
		case typ == "S3":
			gen(ev+"Permission", "AWS::Lambda::Permission", why+" (S3 may invoke the function)")
		case typ == "SNS":
			if sub, ok := ep["SqsSubscription"]; ok && sub != false {
				m, _ := sub.(map[string]any)
				if !has(m, "QueueArn") {
					gen(ev+"Queue", "AWS::SQS::Queue", why+" with SqsSubscription")
				}
				gen(ev+"QueuePolicy", "AWS::SQS::QueuePolicy", why+" with SqsSubscription (SNS may send to the queue)")
				gen(ev+"EventSourceMapping", "AWS::Lambda::EventSourceMapping", why+" with SqsSubscription")
				gen(ev, "AWS::SNS::Subscription", why)
			} else {
				gen(ev, "AWS::SNS::Subscription", why)
				gen(ev+"Permission", "AWS::Lambda::Permission", why+" (SNS may invoke the function)")
			}
		case typ == "Schedule" || typ == "CloudWatchEvent" || typ == "EventBridgeRule":
			gen(ev, "AWS::Events::Rule", why)
			gen(ev+"Permission", "AWS::Lambda::Permission", why+" (EventBridge may invoke the function)")
			if dl, ok := ep["DeadLetterConfig"].(map[string]any); ok && !has(dl, "Arn") {
				gen(ev+"Queue", "AWS::SQS::Queue", why+" dead-letter queue")
				gen(ev+"QueuePolicy", "AWS::SQS::QueuePolicy", why+" dead-letter queue (EventBridge may send to it)")
			}
		case typ == "CloudWatchLogs":
			gen(ev, "AWS::Logs::SubscriptionFilter", why)
			gen(ev+"Permission", "AWS::Lambda::Permission", why+" (CloudWatch Logs may invoke the function)")
		case typ == "IoTRule":
			gen(ev, "AWS::IoT::TopicRule", why)
			gen(ev+"Permission", "AWS::Lambda::Permission", why+" (AWS IoT may invoke the function)")
		case typ == "Api":
			gen(ev+"Permission*", "AWS::Lambda::Permission", why+" (API Gateway may invoke the function)")
			if !has(ep, "RestApiId") && !once["ServerlessRestApi"] {
				once["ServerlessRestApi"] = true
				*out = append(*out,
					resource{LogicalID: "ServerlessRestApi", Type: "AWS::ApiGateway::RestApi", GeneratedBy: id, Why: why + " without RestApiId (implicit API)"},
					resource{LogicalID: "ServerlessRestApiDeployment*", Type: "AWS::ApiGateway::Deployment", GeneratedBy: id, Why: why + " without RestApiId (implicit API)"},
					resource{LogicalID: "ServerlessRestApiProdStage", Type: "AWS::ApiGateway::Stage", GeneratedBy: id, Why: why + " without RestApiId (implicit API)"})
			}
		case typ == "HttpApi":
			gen(ev+"Permission", "AWS::Lambda::Permission", why+" (API Gateway may invoke the function)")
			if !has(ep, "ApiId") && !once["ServerlessHttpApi"] {
				once["ServerlessHttpApi"] = true
				*out = append(*out,
					resource{LogicalID: "ServerlessHttpApi", Type: "AWS::ApiGatewayV2::Api", GeneratedBy: id, Why: why + " without ApiId (implicit API)"},
					resource{LogicalID: "ServerlessHttpApiApiGatewayDefaultStage", Type: "AWS::ApiGatewayV2::Stage", GeneratedBy: id, Why: why + " without ApiId (implicit API)"})
			}
		default:
			c.errorf(joinKey(evPath, "Type"), "sarcheck does not know which resources SAM generates for event type %q; extend resources.go", typ)
		}
	}
}

func stageID(props map[string]any) string {
	if s, ok := props["StageName"].(string); ok {
		return s + "Stage"
	}
	return "*Stage"
}

func httpStageID(props map[string]any) string {
	if s, ok := props["StageName"].(string); ok && s != "$default" {
		return s + "Stage"
	}
	if has(props, "StageName") {
		return "*Stage"
	}
	return "ApiGatewayDefaultStage"
}

func has(m map[string]any, key string) bool {
	_, ok := m[key]
	return ok
}

// eventManagedPolicies are the AWS managed policies SAM attaches to a function's
// generated role for its polled event sources.
var eventManagedPolicies = map[string]string{
	"Kinesis":  "AWSLambdaKinesisExecutionRole",
	"DynamoDB": "AWSLambdaDynamoDBExecutionRole",
	"SQS":      "AWSLambdaSQSQueueExecutionRole",
	"MSK":      "AWSLambdaMSKExecutionRole",
}

// rolePolicies says what SAM puts in a function's generated role, and whether the
// function's own Policies are SAM policy templates only. prop reads a property with
// Globals applied.
func rolePolicies(props map[string]any, prop func(string) (any, bool)) (string, bool) {
	parts := []string{"AWSLambdaBasicExecutionRole"}
	if t, _ := prop("Tracing"); t == "Active" {
		parts = append(parts, "AWSXrayWriteOnlyAccess (Tracing: Active)")
	}
	if _, ok := prop("VpcConfig"); ok {
		parts = append(parts, "AWSLambdaVPCAccessExecutionRole (VpcConfig)")
	}
	events, _ := props["Events"].(map[string]any)
	for _, ev := range slices.Sorted(maps.Keys(events)) {
		def, _ := events[ev].(map[string]any)
		typ, _ := def["Type"].(string)
		if p, ok := eventManagedPolicies[typ]; ok {
			parts = append(parts, fmt.Sprintf("%s (%s event %s)", p, typ, ev))
		}
		ep, _ := def["Properties"].(map[string]any)
		dc, _ := ep["DestinationConfig"].(map[string]any)
		if of, ok := dc["OnFailure"].(map[string]any); ok {
			parts = append(parts, fmt.Sprintf("send access to the on-failure destination %s (event %s)", valueText(of["Destination"]), ev))
		}
	}
	own, templatesOnly := describePolicies(props["Policies"])
	if own != "" {
		parts = append(parts, own)
	}
	return strings.Join(parts, ", "), templatesOnly
}

// describePolicies says what a function's Policies property attaches to its role
// ("" for none), and whether it is SAM policy templates only.
func describePolicies(v any) (string, bool) {
	var list []any
	switch v := v.(type) {
	case nil:
		return "", true
	case []any:
		list = v
	default:
		list = []any{v}
	}
	var inline, managed, templates []string
	for _, p := range list {
		switch p := p.(type) {
		case string:
			managed = append(managed, p)
		case map[string]any:
			if _, isDoc := p["Statement"]; isDoc {
				inline = append(inline, "inline policy")
			} else if fn, ok := intrinsicName(p); ok {
				managed = append(managed, "managed policy from "+fn)
			} else {
				templates = append(templates, slices.Sorted(maps.Keys(p))...)
			}
		}
	}
	var parts []string
	if len(inline) > 0 {
		parts = append(parts, fmt.Sprintf("%d inline policy document(s)", len(inline)))
	}
	if len(managed) > 0 {
		parts = append(parts, "managed policies "+strings.Join(managed, ", "))
	}
	if len(templates) > 0 {
		parts = append(parts, "SAM policy templates "+strings.Join(templates, ", "))
	}
	return strings.Join(parts, ", "), len(inline) == 0 && len(managed) == 0
}

// checkSupported fails every resource SAR does not support, generated or declared.
func (c *checker) checkSupported(resources []resource) {
	for _, r := range resources {
		switch {
		case supportedTypes[r.Type]:
		case strings.HasPrefix(r.Type, "Custom::"):
			// A custom resource is an AWS::CloudFormation::CustomResource.
		case r.Type == "AWS::CloudFormation::Stack" && r.GeneratedBy != "":
			// The stack of a nested AWS::Serverless::Application, which SAR supports.
		case r.GeneratedBy == "":
			c.errorf(joinKey(joinKey("Resources", r.LogicalID), "Type"),
				"%s is not in SAR's list of supported resources (https://docs.aws.amazon.com/serverlessrepo/latest/devguide/list-supported-resources.html)", r.Type)
		default:
			c.errorf(joinKey("Resources", r.GeneratedBy),
				"the SAM transform generates %s (%s) for %s, and SAR does not support %s (https://docs.aws.amazon.com/serverlessrepo/latest/devguide/list-supported-resources.html)",
				r.LogicalID, r.Type, r.Why, r.Type)
		}
	}
}
