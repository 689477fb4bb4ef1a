// Package samtemplate reads an AWS SAM template (template.yaml) and the parameters of a
// samconfig.toml environment, and resolves the template into plain Go values the way
// CloudFormation would for one stack: parameters from their defaults and overrides,
// the Conditions section, the CloudFormation intrinsic functions (short and long form),
// the SAM Globals section, and Ref/Fn::GetAtt of resources through a pluggable
// [Resolver] so that a local pipeline can map logical resources onto emulator names.
//
// It follows these AWS documents:
//   - Intrinsic functions: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
//   - Parameters and their constraints: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
//   - Pseudo parameters: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html
//   - Conditions: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/conditions-section-structure.html
//   - SAM Globals: https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-specification-template-anatomy-globals.html
//   - SAM CLI configuration file: https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-cli-config.html
//
// What it does not do: it does not run the SAM transform (no generated
// AWS::Lambda::EventSourceMapping or IAM resources; the implicit "<Function>Role" of a
// function without a Role and the "<Function><Event>" event source mapping of a
// polled event (Kinesis, DynamoDB, SQS, ...) are the exceptions: they resolve in Ref
// and Fn::GetAtt, because templates reference them, but are not in
// Template.Resources), and
// it cannot resolve constructs that need a deployed account: Fn::ImportValue,
// Fn::Transform (macros), Fn::Cidr, SSM parameter types. Those give an [*Error] that
// wraps [ErrUnsupported] and names the resource and property path.
//
// Parameter precedence differs in one way from the SAM CLI: the SAM CLI replaces the
// whole samconfig parameter_overrides value when --parameter-overrides is given on the
// command line; this package layers them per key (template Default, then samconfig,
// then [Options.Overrides]), so a command-line override of one parameter keeps the
// others from samconfig.toml.
package samtemplate
