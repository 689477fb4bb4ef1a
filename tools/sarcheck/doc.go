// Command sarcheck checks that a SAM template can be published to the AWS Serverless
// Application Repository (SAR) and deployed from it with no input:
//
//	go run ./tools/sarcheck [-json] template.yaml
//
// It validates the AWS::ServerlessRepo::Application metadata against SAR's limits (no
// intrinsic functions, Name, Description, Author, Labels, SemanticVersion, SPDX
// license, license and readme files, URLs); checks that every resource, including the
// ones the SAM transform generates (AWS::Lambda::Function, AWS::IAM::Role,
// AWS::Lambda::EventSourceMapping, permissions, ...), is a type SAR supports; checks
// that parameters have SAR-compatible types and working defaults and that
// AWS::CloudFormation::Interface puts each in exactly one group; and lists the
// capabilities (CAPABILITY_IAM, CAPABILITY_RESOURCE_POLICY, ...) a deployer must
// acknowledge, naming the resources that need them.
//
// Exit status: 0 when the template passes, 1 when it has errors (or cannot be read),
// 2 for a usage error. Warnings do not fail the check.
//
// AWS documents it follows:
//   - https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-template-publishing-applications-metadata-properties.html
//   - https://docs.aws.amazon.com/serverlessrepo/latest/devguide/applications.html (CreateApplication limits)
//   - https://docs.aws.amazon.com/serverlessrepo/latest/devguide/list-supported-resources.html
//   - https://docs.aws.amazon.com/serverlessrepo/latest/devguide/acknowledging-application-capabilities.html
//   - https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-specification-generated-resources.html
package main
