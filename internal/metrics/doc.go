// Package metrics writes CloudWatch metrics as Embedded Metric Format (EMF) log
// lines, and validates such lines against the EMF specification.
//
// A Lambda function writes one JSON object per line to stdout; CloudWatch Logs
// extracts the metrics the object's "_aws" member declares. No PutMetricData call is
// made: the metrics cost no request, no latency and no IAM permission, and they sit
// next to the function's logs with the request id as a searchable field.
//
// Every line a [Writer] writes declares the dimension sets [["Service"],
// ["Service","FunctionName"]]: one series for the whole application and one per
// function. The namespace and service come from the environment (METRICS_NAMESPACE,
// SERVICE_NAME), which the template sets from its MetricsNamespace parameter and the
// stack name.
//
// [Validate] checks a line against the specification (timestamp in milliseconds,
// CloudWatchMetrics directives, namespace pattern, dimension sets of at most 30
// keys that name root members, dimension names and values of printable ASCII, at
// most 100 metrics per directive, units from
// CloudWatch's list, values that are numbers or arrays of at most 100 numbers).
// Tests run it over every line the functions print.
//
// Specification: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
// Units: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html
package metrics
