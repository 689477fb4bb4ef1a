package metrics

// Metric describes one metric a function emits: its name, unit and meaning. The
// catalog below is the single list the functions, the template's dashboard and
// alarms, and the tests agree on.
type Metric struct {
	Name        string
	Unit        Unit
	Description string
}

// AddMetric records value for m (see Set.Add).
func (s *Set) AddMetric(m Metric, value float64) { s.Add(m.Name, m.Unit, value) }

// ProcessorFunction's metrics, one line per invocation.
var (
	RecordsReceived    = Metric{"RecordsReceived", Count, "Kinesis records in the batch (a KPL aggregated record counts once)"}
	RecordsWritten     = Metric{"RecordsWritten", Count, "lines in the processed object stored for the batch (one per KPL user record)"}
	RecordsQuarantined = Metric{"RecordsQuarantined", Count, "records the transform rejected, stored under the quarantine prefix"}
	BytesIn            = Metric{"BytesIn", Bytes, "bytes of record data in the batch"}
	BytesOut           = Metric{"BytesOut", Bytes, "bytes of the objects stored (compressed)"}
	ObjectsWritten     = Metric{"ObjectsWritten", Count, "objects stored (processed and quarantine)"}
	BatchDuration      = Metric{"BatchDuration", Milliseconds, "time the handler spent on the batch"}
	OldestRecordAge    = Metric{"OldestRecordAge", Milliseconds, "now minus the approximate arrival time of the batch's first record, when the handler started"}
	BatchFailures      = Metric{"BatchFailures", Count, "batches answered with a batch item failure (a write failed; Lambda retries the batch)"}
	InvalidEvents      = Metric{"InvalidEvents", Count, "invocations with an event that is not a Kinesis event (a function error)"}
	HandlerErrors      = Metric{"HandlerErrors", Count, "invocations that failed for another reason (a function error)"}
)

// AggregatorFunction's metrics, one line per invocation.
var (
	MessagesReceived     = Metric{"MessagesReceived", Count, "SQS messages in the batch"}
	MessagesFailed       = Metric{"MessagesFailed", Count, "messages reported in batchItemFailures (SQS redelivers them, then moves them to the DLQ)"}
	ObjectsAggregated    = Metric{"ObjectsAggregated", Count, "object versions whose contribution was applied to the summaries"}
	DuplicatesSkipped    = Metric{"DuplicatesSkipped", Count, "object versions already applied (duplicate or stale notifications)"}
	RecordsAggregated    = Metric{"RecordsAggregated", Count, "records added to the summaries"}
	SummaryItemsUpdated  = Metric{"SummaryItemsUpdated", Count, "summary items (device-hours and fleet-hours) changed"}
	LinesMalformed       = Metric{"LinesMalformed", Count, "object lines that are not output lines (skipped)"}
	RecordsMissingDevice = Metric{"RecordsMissingDevice", Count, "records without a usable device ID: missing, empty, not a string or number, or too long for a DynamoDB key (skipped)"}
	RecordsMissingTime   = Metric{"RecordsMissingTime", Count, "records with neither an event time nor an arrival time (skipped)"}
	RecordsTimeFallback  = Metric{"RecordsTimeFallback", Count, "records grouped by arrival time because the event time was missing or invalid"}
	ValuesNotNumeric     = Metric{"ValuesNotNumeric", Count, "numeric fields that held something else (the field is left out)"}
	ValuesOutOfRange     = Metric{"ValuesOutOfRange", Count, "numeric fields holding a number outside the summable domain: |v| of 1e12 or more, or digits below 1e-21 (the field is left out)"}
	AggregationDuration  = Metric{"AggregationDuration", Milliseconds, "time the handler spent on the batch"}
)

// ProcessorMetrics returns the catalog of ProcessorFunction's metrics.
func ProcessorMetrics() []Metric {
	return []Metric{RecordsReceived, RecordsWritten, RecordsQuarantined, BytesIn, BytesOut, ObjectsWritten,
		BatchDuration, OldestRecordAge, BatchFailures, InvalidEvents, HandlerErrors}
}

// AggregatorMetrics returns the catalog of AggregatorFunction's metrics.
func AggregatorMetrics() []Metric {
	return []Metric{MessagesReceived, MessagesFailed, ObjectsAggregated, DuplicatesSkipped, RecordsAggregated,
		SummaryItemsUpdated, LinesMalformed, RecordsMissingDevice, RecordsMissingTime, RecordsTimeFallback,
		ValuesNotNumeric, ValuesOutOfRange, AggregationDuration}
}
