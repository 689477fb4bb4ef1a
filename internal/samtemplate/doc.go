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
// Why it is hand-written. Two Go libraries read CloudFormation templates; measured
// against this project's template.yaml and testdata (2026-12-07), neither does what
// Load must:
//   - github.com/awslabs/goformation/v7 (v7.14.9) resolves intrinsics with fixed
//     pseudo parameters (AWS::Region is always us-east-1, AWS::StackName
//     "goformation-stack"), and resolves Ref of a resource, Fn::GetAtt,
//     Fn::ImportValue, Fn::Cidr and an unknown Ref to null without an error; !Sub
//     "${Q.Arn}" becomes "". It has no !Condition, !ToJsonString or !Length tag and
//     drops unknown tags (!Lowercase X becomes "X"), takes a parameter override
//     outside AllowedValues, neither merges Globals nor reads samconfig.toml, and
//     keeps no line numbers (it converts YAML to JSON first). Its typed parse rejects
//     template.yaml (unknown field "LoggingConfig"). Linking it grows
//     cmd/streamlake (stripped) from 26.7 to 43.1 MB and by 250 packages.
//   - github.com/aws-cloudformation/rain (v1.24.4, cft/parse) turns short forms into
//     long forms on gopkg.in/yaml.v3 nodes, which keep lines, but resolves nothing
//     (parameters, Conditions, Fn::If, Globals). It also lacks !ToJsonString and
//     !Length (the value is kept without the function), drops unknown tags, accepts
//     duplicate keys, places the syntax error of testdata/errors/malformed.yaml on
//     line 2 instead of 3, and accepts an alias bomb (10^7 values) that only a
//     later Decode refuses. It pulls in readline, a colour and a terminal package
//     (15 packages, +0.4 MB to cmd/streamlake).
//
// So the resolver, parameter checks, Conditions, Globals and samconfig reading are
// this package's own; YAML itself is parsed by github.com/goccy/go-yaml, whose AST
// carries the tags and positions the decoder needs for short forms, unknown-tag and
// duplicate-key errors with lines, and the nesting and size limits.
//
// Parameter precedence differs in one way from the SAM CLI: the SAM CLI replaces the
// whole samconfig parameter_overrides value when --parameter-overrides is given on the
// command line; this package layers them per key (template Default, then samconfig,
// then [Options.Overrides]), so a command-line override of one parameter keeps the
// others from samconfig.toml.
package samtemplate
