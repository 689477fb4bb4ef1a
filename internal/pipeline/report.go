package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streamlake/streamlake/internal/kpl"
	"github.com/streamlake/streamlake/internal/localenv"
	"github.com/streamlake/streamlake/internal/ndjson"
	"github.com/streamlake/streamlake/internal/onfailure"
	"github.com/streamlake/streamlake/internal/record"
	"github.com/streamlake/streamlake/internal/s3store"
	"github.com/streamlake/streamlake/internal/summary"
)

// Report is the accounting of a local run (design §8). Its record counts are
// computed by reading back what is in the emulator, not from counters: every
// record in the stream is classified as written (in the latest version of a
// processed object), quarantined, filtered (rejected by the mapping's
// FilterCriteria), dead-lettered (in the sequence range of an on-failure record and
// stored nowhere) or lost (none of these). Duplicates are extra copies of a record
// among the latest versions of the processed and quarantine objects.
type Report struct {
	Sent         int `json:"sent"`
	Filtered     int `json:"filtered"`
	Written      int `json:"written"`
	Quarantined  int `json:"quarantined"`
	DeadLettered int `json:"dead_lettered"`
	Duplicates   int `json:"duplicates"`
	Lost         int `json:"lost"`

	Objects          ObjectCounts  `json:"objects"`
	OnFailureRecords int           `json:"on_failure_records"`
	Shards           []ShardReport `json:"shards"`
	// LostSample and DuplicateSample name up to 10 records ("shardId:sequenceNumber").
	LostSample      []string `json:"lost_sample,omitempty"`
	DuplicateSample []string `json:"duplicate_sample,omitempty"`

	// ContentChecked is the number of stored lines (processed and quarantine)
	// whose original_data was compared with the payload of the stream record
	// they stand for (originalDataMatches); ContentMismatches counts those that
	// differ, ContentSample names up to 10 ("objectKey shardId:sequenceNumber").
	ContentChecked    int      `json:"content_checked"`
	ContentMismatches int      `json:"content_mismatches"`
	ContentSample     []string `json:"content_mismatch_sample,omitempty"`
	// Phantoms counts stored lines whose shard and sequence number are no
	// record of the stream; PhantomSample names up to 10 as ContentSample does.
	Phantoms      int      `json:"phantom_lines"`
	PhantomSample []string `json:"phantom_sample,omitempty"`
	// InvalidOnFailure counts on-failure records whose range is not one of the
	// run's stream (another StreamARN) or has no EndSequenceNumber: they excuse
	// no record. InvalidOnFailureSample names up to 10 ("streamArn shardId
	// start..end").
	InvalidOnFailure       int      `json:"invalid_on_failure_records"`
	InvalidOnFailureSample []string `json:"invalid_on_failure_sample,omitempty"`
	// Produced is the number of records the producer put in the stream: those
	// in it when this part of the run started producing, plus those PutRecords
	// acknowledged since; nil when another producer puts them
	// (Options.NoProduce). The report fails when Sent differs.
	Produced *int64 `json:"produced,omitempty"`
	// Misplaced counts records in the wrong prefix: a record the run made
	// poison in a processed object, or a record it made valid in a quarantine
	// object; MisplacedSample names up to 10. Placement says how far the run
	// knew which records are poison (see placement): "exact", "poison only" or
	// "none"; PlacementUnchecked counts the quarantined records whose kind
	// was unknown.
	Misplaced          int      `json:"misplaced"`
	MisplacedSample    []string `json:"misplaced_sample,omitempty"`
	Placement          string   `json:"placement"`
	PlacementUnchecked int      `json:"placement_unchecked"`

	Mapping  MappingReport  `json:"mapping"`
	Function FunctionReport `json:"function"`
	Injected InjectedFaults `json:"faults_injected"`
	Producer ProducerReport `json:"producer"`

	DurationSeconds  float64 `json:"duration_seconds"`
	RecordsPerSecond float64 `json:"records_per_second"`
	Resumed          bool    `json:"resumed"`
	// Parts is the number of parts the report totals: 1 for a run that was never
	// interrupted, plus one per interrupted part that was resumed (see
	// partsFile). The counters and the duration cover every part.
	Parts int `json:"parts"`
	// RunEndpoints are the endpoints the run used.
	RunEndpoints
	// Emulators describes each emulator process, when it runs through
	// motoserver's launcher; EmulatorErrors sums their 5xx answers (the
	// project's fault injection never reaches an emulator, so each is an
	// emulator failure; a healthy run has none).
	Emulators       []EmulatorReport `json:"emulators,omitempty"`
	EmulatorErrors  int64            `json:"emulator_errors"`
	Bucket          string           `json:"bucket"`
	FailureQueueURL string           `json:"failure_queue_url"`

	Summaries *SummaryReport `json:"summaries,omitempty"`
	// SQSFunctions describes the functions fed by SQS (the aggregator).
	SQSFunctions []SQSFunctionReport `json:"sqs_functions,omitempty"`
	// KeyOrder is the per-partition-key order check of a run that resharded
	// the stream (Options.ReshardAt); nil otherwise.
	KeyOrder *KeyOrderReport `json:"key_order,omitempty"`

	// Hourly summarizes the processed records per hour of event time.
	Hourly []HourReport `json:"hourly,omitempty"`
	// Timeline holds the run's live counters four times a second (for the HTML
	// report; not in the JSON report).
	Timeline []Sample `json:"-"`
}

// EmulatorSummary is the one-line summary of the emulators, "" without any.
func (r *Report) EmulatorSummary() string {
	if len(r.Emulators) == 0 {
		return ""
	}
	var parts []string
	var peak, cpu float64
	for _, e := range r.Emulators {
		parts = append(parts, fmt.Sprintf("%s %.0f MB peak, %.1f s CPU, %d requests",
			strings.Join(e.Services, "+"), e.PeakRSSMB, e.CPUSeconds, e.Requests))
		peak += e.PeakRSSMB
		cpu += e.CPUSeconds
	}
	return fmt.Sprintf("Emulators: %d errors (5xx); %s; together %.0f MB peak, %.1f s CPU",
		r.EmulatorErrors, strings.Join(parts, "; "), peak, cpu)
}

// EmulatorReport describes one emulator process at the end of a run.
type EmulatorReport = localenv.EmulatorProcess

// OK reports whether nothing was lost or duplicated and the summaries, if the
// template has an aggregator, match the processed objects.
func (r *Report) OK() bool { return len(r.Failures()) == 0 }

// Failures lists, one phrase each, what makes the report fail; none when it is
// OK.
func (r *Report) Failures() []string {
	var out []string
	add := func(n int, what string) {
		if n > 0 {
			out = append(out, fmt.Sprintf("%d %s", n, what))
		}
	}
	if r.Produced != nil && *r.Produced != int64(r.Sent) {
		out = append(out, fmt.Sprintf("%d records in the stream, not the %d the producer put", r.Sent, *r.Produced))
	}
	add(r.Lost, "records lost")
	add(r.InvalidOnFailure, "on-failure records of another stream or without an end")
	add(r.Duplicates, "duplicated")
	add(r.ContentMismatches, "stored lines whose original_data is not their stream record's payload")
	add(r.Phantoms, "stored lines of no record in the stream")
	add(r.Misplaced, "records in the wrong prefix (poison processed, or valid quarantined)")
	if s := r.Summaries; s != nil {
		add(s.Mismatches, "summary items wrong")
		if s.Recomputed.Records+s.WithoutDevice != int64(r.Written) || s.Recomputed.NoTime+s.Recomputed.Malformed > 0 {
			out = append(out, fmt.Sprintf("%d records aggregated by the recomputation, not the %d of the %d written that have a device (%d without a device, %d without a time, %d malformed)",
				s.Recomputed.Records, int64(r.Written)-s.WithoutDevice, r.Written, s.Recomputed.NoDevice, s.Recomputed.NoTime, s.Recomputed.Malformed))
		}
		add(s.CrossMismatches, "device items whose count differs from a count by encoding/json and time.Parse")
	}
	if r.KeyOrder != nil {
		add(r.KeyOrder.Violations, "records out of per-key order")
	}
	return out
}

// ObjectCounts counts the current objects under each prefix.
type ObjectCounts struct {
	Processed  int `json:"processed"`
	Quarantine int `json:"quarantine"`
	Empty      int `json:"empty"`
}

// ShardReport is the state of one shard at the end of the run.
type ShardReport struct {
	ShardID    string `json:"shard_id"`
	Records    int    `json:"records"`
	Checkpoint string `json:"checkpoint"`
	// LagRecords is the number of records after the checkpoint.
	LagRecords         int   `json:"lag_records"`
	MillisBehindLatest int64 `json:"millis_behind_latest"`
}

// MappingReport summarizes the event source mapping's own counters.
type MappingReport struct {
	Polled          int64 `json:"polled"`
	FilteredOut     int64 `json:"filtered_out"`
	Invocations     int64 `json:"invocations"`
	FunctionErrors  int64 `json:"function_errors"`
	PartialFailures int64 `json:"partial_failures"`
	Retries         int64 `json:"retries"`
	Bisects         int64 `json:"bisects"`
	Dropped         int64 `json:"dropped"`
	OnFailureSent   int64 `json:"on_failure_sent"`
}

// FunctionReport describes the function's invocations in the local host.
type FunctionReport struct {
	Invocations   int64   `json:"invocations"`
	ColdStarts    int64   `json:"cold_starts"`
	BusySeconds   float64 `json:"busy_seconds"`
	Environments  int     `json:"environments"`
	MeanInvokeMS  float64 `json:"mean_invoke_ms"`
	BuildSeconds  float64 `json:"build_seconds"`
	SetupSeconds  float64 `json:"setup_seconds"`
	ProduceSecond float64 `json:"produce_seconds"`
}

// InjectedFaults counts the faults actually injected.
type InjectedFaults struct {
	S3Failures    int64 `json:"s3_failures"`
	CrashesBefore int64 `json:"crashes_before_handler"`
	CrashesAfter  int64 `json:"crashes_after_handler"`
	Timeouts      int64 `json:"timeouts"`
	Poison        int   `json:"poison_records"`
}

// ProducerReport summarizes the producer.
type ProducerReport struct {
	Sent    int64 `json:"sent"`
	Retries int64 `json:"retries"`
	Failed  int64 `json:"failed"`
}

// SummaryReport compares the hourly summaries table with a recomputation from
// the latest versions of the processed objects (design §4, §9.3): Items is the
// number of summary items read (Scan, the whole table), Mismatches the number
// of differences, Sample up to 10 of them.
type SummaryReport struct {
	Items      int      `json:"items"`
	Mismatches int      `json:"mismatches"`
	Sample     []string `json:"mismatch_sample,omitempty"`
	// Recomputed counts the lines the recomputation read and why some were
	// not aggregated; the report fails when its Records is not the number of
	// written records less WithoutDevice, or when it has lines without a time
	// or malformed.
	Recomputed summary.Stats `json:"recomputed"`
	// WithoutDevice counts the written lines without a usable device read with
	// encoding/json (countWithoutDevice): records the aggregator leaves out by
	// design, such as text, binary or readings of another shape.
	WithoutDevice int64 `json:"without_device"`
	// CrossChecked counts the records whose device items' counts were checked
	// independently of package summary (crossCheck), NotCrossChecked those
	// the check could not read simply; CrossMismatches counts device items
	// whose count differs, CrossSample names up to 10.
	CrossChecked    int64    `json:"cross_checked"`
	NotCrossChecked int64    `json:"not_cross_checked"`
	CrossMismatches int      `json:"cross_mismatches"`
	CrossSample     []string `json:"cross_mismatch_sample,omitempty"`
}

type streamRecord struct {
	shard, seq, key string
	data            []byte
}

// eachUser calls f with the user records of r, a KPL aggregate as the
// processor takes it apart (kpl.Parse), with their index; or with r's data
// and -1 for any other record.
func eachUser(r streamRecord, f func(sub int, data []byte)) {
	users, ok := kpl.Parse(nil, r.data)
	if !ok {
		f(-1, r.data)
		return
	}
	for i, u := range users {
		f(i, u.Data)
	}
}

// streamReader is what the report calls of the Kinesis API: *kinesis.Client.
type streamReader interface {
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, opts ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, opts ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

// readStream reads every record of every shard of the stream, in order. It
// lists the shards page by page (ListShards' NextToken, with which the request
// names no stream).
func readStream(ctx context.Context, kin streamReader, streamARN string) (map[string][]streamRecord, []string, error) {
	var shards []kintypes.Shard
	in := &kinesis.ListShardsInput{StreamARN: aws.String(streamARN)}
	for {
		page, err := kin.ListShards(ctx, in)
		if err != nil {
			return nil, nil, fmt.Errorf("list shards: %w", err)
		}
		shards = append(shards, page.Shards...)
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: page.NextToken}
	}
	out := map[string][]streamRecord{}
	var ids []string
	for _, sh := range shards {
		id := aws.ToString(sh.ShardId)
		ids = append(ids, id)
		recs, err := readShard(ctx, kin, streamARN, id, &kinesis.GetShardIteratorInput{ShardIteratorType: kintypes.ShardIteratorTypeTrimHorizon}, "")
		if err != nil {
			return nil, nil, err
		}
		out[id] = recs
	}
	sort.Strings(ids)
	return out, ids, nil
}

// readShard reads a shard from the iterator it describes up to and including
// endSeq ("" = to the tip). It reads on past empty pages while GetRecords says
// the iterator is behind the tip (MillisBehindLatest > 0), as Kinesis can
// answer an empty page in the middle of a shard, and stops at an empty page at
// the tip or at the end of a closed shard (no NextShardIterator).
func readShard(ctx context.Context, kin streamReader, streamARN, shard string, it *kinesis.GetShardIteratorInput, endSeq string) ([]streamRecord, error) {
	it.StreamARN, it.ShardId = aws.String(streamARN), aws.String(shard)
	itOut, err := kin.GetShardIterator(ctx, it)
	if err != nil {
		return nil, fmt.Errorf("get shard iterator %s: %w", shard, err)
	}
	iter := itOut.ShardIterator
	var out []streamRecord
	for iter != nil {
		page, err := kin.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, StreamARN: aws.String(streamARN), Limit: aws.Int32(10000)})
		if err != nil {
			return nil, fmt.Errorf("get records %s: %w", shard, err)
		}
		for _, r := range page.Records {
			seq := aws.ToString(r.SequenceNumber)
			if endSeq != "" {
				if c, _ := record.CompareSequenceNumbers(seq, endSeq); c > 0 {
					return out, nil
				}
			}
			out = append(out, streamRecord{shard: shard, seq: seq, key: aws.ToString(r.PartitionKey), data: r.Data})
		}
		if len(page.Records) == 0 && aws.ToInt64(page.MillisBehindLatest) == 0 {
			break
		}
		iter = page.NextShardIterator
	}
	return out, nil
}

// objectLine is what the report needs of one stored line.
type objectLine struct {
	Shard string `json:"shard_id"`
	Seq   string `json:"sequence_number"`
	// Sub is the sub_sequence_number of a KPL user record's line.
	Sub *int `json:"sub_sequence_number"`
	// Data is the line's original_data, as stored.
	Data json.RawMessage `json:"original_data"`
	// reading is the line's sensor reading, for the hourly chart.
	reading reading
}

// readObjects returns, for every current object under prefix, the records it holds.
func readObjects(ctx context.Context, client *s3.Client, bucket, prefix string) (map[string][]objectLine, error) {
	out := map[string][]objectLine{}
	err := eachObject(ctx, client, bucket, prefix, func(key string) error {
		lines, err := readObjectLines(ctx, client, bucket, key)
		out[key] = lines
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachObject calls f with the key of every current object under prefix, and
// stops at f's first error.
func eachObject(ctx context.Context, client *s3.Client, bucket, prefix string, f func(key string) error) error {
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix + "/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			if err := f(aws.ToString(o.Key)); err != nil {
				return err
			}
		}
	}
	return nil
}

func readObjectLines(ctx context.Context, client *s3.Client, bucket, key string) ([]objectLine, error) {
	obj, err := s3store.NewReader(client).GetObject(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	r, err := ndjson.NewReader(key, obj.Body)
	if err != nil {
		return nil, fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	var lines []objectLine
	sc := ndjson.NewScanner(r)
	for sc.Scan() {
		var l objectLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.Seq == "" {
			return nil, fmt.Errorf("s3://%s/%s: line %d is not an output line", bucket, key, len(lines)+1)
		}
		l.reading = readingOf(sc.Bytes())
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	return lines, nil
}

// placement is what a run knows of which records of the stream it made poison
// (producer.Poison), which the processor must quarantine and no other. The zero
// value knows nothing (another producer's records, Options.NoProduce).
type placement struct {
	// poison holds the poison records ("shardId:sequenceNumber") as PutRecords
	// acknowledged them to the run, in every part of it.
	poison map[string]bool
	// complete is true when every record in the stream was acknowledged to
	// the run: a record outside poison is then known to be valid. It is false
	// after a part that could not save what it put (killed, or a PutRecords
	// call cut short by an interrupt), or with records from before the run.
	complete bool
}

func (pl placement) kind() string {
	switch {
	case pl.complete:
		return "exact"
	case pl.poison != nil:
		return "poison only"
	}
	return "none"
}

// check counts record id in rep.Misplaced when it is in the wrong prefix.
func (pl placement) check(id string, processed, quarantined bool, rep *Report) {
	switch {
	case pl.poison[id] && processed:
		rep.Misplaced++
		rep.MisplacedSample = appendSample(rep.MisplacedSample, id+" (poison) in processed")
	case !quarantined || pl.poison[id]:
	case pl.complete:
		rep.Misplaced++
		rep.MisplacedSample = appendSample(rep.MisplacedSample, id+" (valid) in quarantine")
	case pl.poison != nil:
		rep.PlacementUnchecked++
	}
}

// appendSample appends s to a sample of at most 10.
func appendSample(sample []string, s string) []string {
	if len(sample) < 10 {
		sample = append(sample, s)
	}
	return sample
}

// readFailureQueue receives every message of the queue, then makes them visible
// again, so that they stay for redrive.
func readFailureQueue(ctx context.Context, client *sqs.Client, queueURL string) ([]onfailure.Record, error) {
	var out []onfailure.Record
	var handles []string
	seen := map[string]bool{}
	for {
		msgs, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, VisibilityTimeout: 120})
		if err != nil {
			return nil, fmt.Errorf("receive from %s: %w", queueURL, err)
		}
		if len(msgs.Messages) == 0 {
			break
		}
		for _, m := range msgs.Messages {
			handles = append(handles, aws.ToString(m.ReceiptHandle))
			if seen[aws.ToString(m.MessageId)] {
				continue
			}
			seen[aws.ToString(m.MessageId)] = true
			var rec onfailure.Record
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &rec); err != nil {
				return nil, fmt.Errorf("failure queue message %s is not an on-failure record: %w", aws.ToString(m.MessageId), err)
			}
			out = append(out, rec)
		}
	}
	for _, h := range handles {
		_, _ = client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(queueURL), ReceiptHandle: aws.String(h), VisibilityTimeout: 0})
	}
	return out, nil
}

// account fills the record counts of rep.
func account(ctx context.Context, kin streamReader, streamARN string, stream map[string][]streamRecord, shardIDs []string,
	processed, quarantine map[string][]objectLine, failures []onfailure.Record, passes func([]byte) bool, pl placement, rep *Report) error {
	// A record is its shard, sequence number and, for a user record of a KPL
	// aggregate (which the processor stores as a line of its own), its index.
	type id struct {
		shard, seq string
		sub        int // -1: not an aggregate's
	}
	type kinesisID struct{ shard, seq string }
	data := map[id][]byte{}
	for _, shard := range shardIDs {
		for _, r := range stream[shard] {
			eachUser(r, func(sub int, d []byte) { data[id{r.shard, r.seq, sub}] = d })
		}
	}
	stored := map[id]int{}
	inQuarantine, inProcessed := map[id]bool{}, map[id]bool{}
	for _, set := range []struct {
		objs map[string][]objectLine
		q    bool
	}{{processed, false}, {quarantine, true}} {
		for _, key := range slices.Sorted(maps.Keys(set.objs)) {
			lines := set.objs[key]
			if len(lines) == 0 {
				rep.Objects.Empty++
			}
			for _, l := range lines {
				k := id{l.Shard, l.Seq, -1}
				if l.Sub != nil {
					k.sub = *l.Sub
				}
				stored[k]++
				if set.q {
					inQuarantine[k] = true
				} else {
					inProcessed[k] = true
				}
				d, ok := data[k]
				switch {
				case !ok:
					rep.Phantoms++
					rep.PhantomSample = appendSample(rep.PhantomSample, key+" "+l.Shard+":"+l.Seq)
				case !originalDataMatches(d, l.Data):
					rep.ContentChecked++
					rep.ContentMismatches++
					rep.ContentSample = appendSample(rep.ContentSample, key+" "+l.Shard+":"+l.Seq)
				default:
					rep.ContentChecked++
				}
			}
		}
	}
	rep.Objects.Processed, rep.Objects.Quarantine = len(processed), len(quarantine)
	deadLettered := map[kinesisID]bool{}
	for _, f := range failures {
		b := f.KinesisBatchInfo
		// A range of another stream, or without an end, excuses nothing: an
		// empty end would excuse the rest of the shard.
		if b.StreamARN != streamARN || b.EndSequenceNumber == "" {
			rep.InvalidOnFailure++
			rep.InvalidOnFailureSample = appendSample(rep.InvalidOnFailureSample,
				fmt.Sprintf("%s %s %s..%s", cmp.Or(b.StreamARN, `""`), b.ShardID, b.StartSequenceNumber, cmp.Or(b.EndSequenceNumber, `""`)))
			continue
		}
		recs, err := readShard(ctx, kin, streamARN, b.ShardID, &kinesis.GetShardIteratorInput{
			ShardIteratorType: kintypes.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(b.StartSequenceNumber)}, b.EndSequenceNumber)
		if err != nil {
			return fmt.Errorf("re-read on-failure range %s %s..%s: %w", b.ShardID, b.StartSequenceNumber, b.EndSequenceNumber, err)
		}
		for _, r := range recs {
			deadLettered[kinesisID{r.shard, r.seq}] = true
		}
	}
	rep.OnFailureRecords = len(failures)
	rep.Placement = pl.kind()
	for _, shard := range shardIDs {
		for _, r := range stream[shard] {
			// Lambda filters, and the failure queue names, Kinesis records:
			// an aggregate's user records share its fate there.
			passed, dead := passes(r.data), deadLettered[kinesisID{r.shard, r.seq}]
			eachUser(r, func(sub int, _ []byte) {
				rep.Sent++
				k := id{r.shard, r.seq, sub}
				name := r.shard + ":" + r.seq
				if sub >= 0 {
					name += "/" + strconv.Itoa(sub)
				}
				n := stored[k]
				switch {
				case n > 0 && inQuarantine[k]:
					rep.Quarantined++
				case n > 0:
					rep.Written++
				case !passed:
					rep.Filtered++
				case dead:
					rep.DeadLettered++
				default:
					rep.Lost++
					if len(rep.LostSample) < 10 {
						rep.LostSample = append(rep.LostSample, name)
					}
				}
				pl.check(r.shard+":"+r.seq, inProcessed[k], inQuarantine[k], rep)
				if n > 1 {
					rep.Duplicates += n - 1
					if len(rep.DuplicateSample) < 10 {
						rep.DuplicateSample = append(rep.DuplicateSample, name)
					}
				}
			})
		}
	}
	return nil
}
