package redrive

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// QueueAPI is the part of the SQS client that redrive calls. *sqs.Client satisfies
// it; tests wrap it to inject failures.
type QueueAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// Defaults of Options.
const (
	// DefaultVisibilityTimeout hides a message from other consumers while its range
	// is redriven. Run extends it, every third of it, for every message it holds
	// until the message is deleted or, at the end, made visible again.
	DefaultVisibilityTimeout = 5 * time.Minute
	// DefaultWaitTime is the long-poll wait of ReceiveMessage; the run ends when a
	// receive returns nothing. Long polling asks every SQS server, so an empty
	// answer means an empty queue (short polling may miss messages).
	DefaultWaitTime = 2 * time.Second
	// ChunkRecords and ChunkBytes bound one write (one object for S3): a range is
	// cut into chunks of at most ChunkRecords records and, past ChunkBytes of data,
	// the chunk ends. The cut depends only on the range's records, so reruns write
	// the same keys.
	ChunkRecords = 10000
	ChunkBytes   = 64 << 20
)

// Options configures Run. Queue, QueueURL, Streams and Writer are required.
type Options struct {
	// QueueURL is the failure queue (the mapping's on-failure destination).
	QueueURL string
	Queue    QueueAPI
	// Streams returns the Kinesis client for a stream's region (from its ARN).
	Streams func(region string) (StreamAPI, error)
	// Writer is the destination: ToS3 or ToStream.
	Writer Writer
	// Filter, if not nil, reports whether a record's data is redriven. Give it the
	// mapping's FilterCriteria (filter.Criteria.Match) so that the records of a
	// range that the mapping filtered out are skipped, as they were the first time.
	// Reruns must use the same filter, so that they write the same keys.
	Filter func(data []byte) bool
	// Stored, if not nil, reports whether the processor's latest objects already
	// hold a record (Stored.Holds): such records are skipped, so that a range that
	// names stored records (see Stored) does not store them twice. Reruns must
	// use the same setting.
	// A KPL aggregate some of whose user records are stored is written without
	// them (Record.StoredUsers) by the S3 writer, and whole to the stream.
	Stored interface {
		Holds(ctx context.Context, rec Record) (Held, error)
		// Forget drops what Holds read; Run calls it before each message.
		Forget()
	}
	// StreamARN, if not empty, is the stream whose failures the run redrives:
	// a message whose range is of another stream is reported invalid and left
	// in the queue, since Filter, Stored and Writer are this stream's (another
	// mapping's failures in the queue would be written with them, and the
	// message deleted).
	StreamARN string
	// DryRun reads the messages and ranges and reports what would be written,
	// without writing or deleting anything.
	DryRun bool
	// Max is the most messages to handle; 0 means all.
	Max int
	// VisibilityTimeout and WaitTime: 0 means the defaults. A received message is
	// hidden for VisibilityTimeout, extended every third of it while the run holds
	// it (so another run does not redrive it at the same time): a shorter one
	// makes a crashed run's messages reappear sooner, at the price of more
	// ChangeMessageVisibilityBatch calls.
	VisibilityTimeout time.Duration
	WaitTime          time.Duration
	// Progress, if not nil, is called after every chunk and message.
	Progress func(Progress)
}

// Progress is a live snapshot of a run.
type Progress struct {
	// Total is the queue's approximate message count when the run started (capped
	// by Max); 0 if unknown.
	Total                                                       int
	MessagesRead, Redriven, Expired, Failed                     int
	RecordsRead, RecordsFiltered, RecordsStored, RecordsWritten int
}

// Status is the outcome for one message.
type Status string

// Statuses of MessageResult.
const (
	// StatusRedriven: the range's records were written and the message deleted.
	StatusRedriven Status = "redriven"
	// StatusWouldRedrive: dry run; the range is complete in the stream.
	StatusWouldRedrive Status = "would_redrive"
	// StatusExpired: the range is no longer (completely) in the stream; the message
	// is left in the queue.
	StatusExpired Status = "expired"
	// StatusFailed: reading, writing or deleting failed; the message is left in the
	// queue (if written, a rerun writes the same keys again).
	StatusFailed Status = "failed"
	// StatusInvalid: the message is not a Kinesis on-failure record, its
	// range is of another stream than Options.StreamARN, or its range's start
	// is another shard's sequence number; it is left in the queue.
	StatusInvalid Status = "invalid"
)

// MessageResult is what happened to one message.
type MessageResult struct {
	MessageID string `json:"message_id"`
	Status    Status `json:"status"`
	Reason    string `json:"reason,omitempty"`
	Range     *Range `json:"range,omitempty"`
	// RecordsRead is the number of records of the range read from the stream.
	// The three counts are of Kinesis records, as the on-failure record's
	// batchSize is: a KPL aggregated record counts once, however many lines
	// its user records make.
	RecordsRead int `json:"records_read"`
	// RecordsFiltered is the number of those that Options.Filter skipped.
	RecordsFiltered int `json:"records_filtered"`
	// RecordsStored is the number of the others that Options.Stored found in
	// the processor's latest objects, and skipped.
	RecordsStored int `json:"records_stored"`
	// RecordsWritten is the number written (0 in a dry run), those whose lines
	// the transform quarantined (in the quarantine prefix) included.
	RecordsWritten int `json:"records_written"`
	// Objects are the keys written (in a dry run: that would be written).
	Objects []string `json:"objects,omitempty"`
	// Deleted reports whether the message was deleted from the queue.
	Deleted bool `json:"deleted"`
	// Received is how many times the run received the message. It is handled
	// once; more than once means it reappeared while the run held it (its
	// visibility timeout lapsed: see Summary.VisibilityError) or the queue
	// delivered it twice.
	Received int `json:"received"`

	receipt string
	// written reports that every record of the range was written.
	written bool
}

// Summary is the outcome of a run; it is also the --json output.
type Summary struct {
	Queue       string `json:"queue"`
	Destination string `json:"destination"`
	DryRun      bool   `json:"dry_run"`
	// MessagesRead counts distinct messages received.
	MessagesRead int `json:"messages_read"`
	// Redriven counts messages written and deleted.
	Redriven int `json:"redriven"`
	// WouldRedrive counts, in a dry run, messages whose range is complete.
	WouldRedrive    int `json:"would_redrive"`
	RecordsRead     int `json:"records_read"`
	RecordsFiltered int `json:"records_filtered"`
	RecordsStored   int `json:"records_stored"`
	RecordsWritten  int `json:"records_written"`
	Expired         int `json:"expired"`
	Failed          int `json:"failed"`
	Invalid         int `json:"invalid"`
	// LeftInQueue counts messages read but not deleted.
	LeftInQueue int `json:"left_in_queue"`
	// ReceivedAgain counts the receives of messages the run had already
	// received (handled once, not counted in MessagesRead or toward Max).
	ReceivedAgain int `json:"received_again"`
	// VisibilityError, if not empty, is why extending the visibility timeout
	// of the messages held failed (the last error): they reappear when it
	// lapses, and other consumers can receive them meanwhile.
	VisibilityError string `json:"visibility_error,omitempty"`
	// Objects counts the objects written (in a dry run: that would be written).
	Objects         int             `json:"objects"`
	DurationSeconds float64         `json:"duration_seconds"`
	Messages        []MessageResult `json:"messages"`
}

// OK reports whether every message read was redriven (or, in a dry run, could be).
func (s *Summary) OK() bool { return s.Expired+s.Failed+s.Invalid == 0 }

// Run redrives the failure queue's messages one by one and returns what it did.
// It returns an error only when it cannot go on (the queue cannot be read, ctx is
// cancelled); problems with single messages are in the Summary. Every message
// received stays hidden while the run holds it (its visibility timeout is
// extended), and messages not deleted are made visible again before Run returns,
// so a rerun sees them at once.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	switch {
	case opts.Queue == nil || opts.QueueURL == "":
		return nil, errors.New("redrive: a queue and its URL are required")
	case opts.Streams == nil:
		return nil, errors.New("redrive: a Kinesis client is required")
	case opts.Writer == nil:
		return nil, errors.New("redrive: a writer is required")
	case opts.Max < 0:
		return nil, fmt.Errorf("redrive: max %d is negative", opts.Max)
	}
	if opts.VisibilityTimeout <= 0 {
		opts.VisibilityTimeout = DefaultVisibilityTimeout
	}
	if opts.WaitTime <= 0 {
		opts.WaitTime = DefaultWaitTime
	}
	r := &runner{opts: opts, seen: map[string]*MessageResult{}}
	// Messages is [] rather than null in the JSON of a run that read none.
	r.sum = Summary{Queue: opts.QueueURL, Destination: opts.Writer.String(), DryRun: opts.DryRun, Messages: []MessageResult{}}
	started := time.Now()
	r.progress.Total = r.approximateCount(ctx)
	r.keep = newKeeper(opts.Queue, opts.QueueURL, opts.VisibilityTimeout)
	r.keep.start(ctx)
	err := r.loop(ctx)
	r.release(ctx, r.keep.close())
	r.sum.VisibilityError = r.keep.failure()
	r.finish()
	r.sum.DurationSeconds = time.Since(started).Seconds()
	if err != nil {
		return &r.sum, err
	}
	return &r.sum, nil
}

type runner struct {
	opts     Options
	sum      Summary
	progress Progress
	// seen maps message IDs to their results: a standard queue can deliver a
	// message twice, and a message can reappear after its visibility timeout.
	seen  map[string]*MessageResult
	order []string
	// keep extends the visibility of the messages received and not deleted,
	// until they are released.
	keep *keeper
}

// approximateCount returns the queue's visible messages, for the progress bar.
func (r *runner) approximateCount(ctx context.Context) int {
	out, err := r.opts.Queue.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(r.opts.QueueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	if r.opts.Max > 0 {
		n = min(n, r.opts.Max)
	}
	return n
}

// loop receives and handles messages until a receive returns none, Max
// messages were handled, or, for one WaitTime, the receives return only
// messages the run has received before (see the package documentation:
// messages that reappear within every receive's wait would otherwise keep the
// run going for ever).
func (r *runner) loop(ctx context.Context) error {
	// idleSince is when the receives began to return only messages received
	// before; zero while they bring new ones.
	var idleSince time.Time
	for r.opts.Max == 0 || len(r.order) < r.opts.Max {
		if err := ctx.Err(); err != nil {
			return err
		}
		began := time.Now()
		n := int32(10)
		if r.opts.Max > 0 {
			n = int32(min(10, r.opts.Max-len(r.order)))
		}
		out, err := r.opts.Queue.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            aws.String(r.opts.QueueURL),
			MaxNumberOfMessages: n,
			VisibilityTimeout:   int32(r.opts.VisibilityTimeout.Seconds()),
			WaitTimeSeconds:     int32(min(r.opts.WaitTime.Seconds(), 20)),
		})
		if err != nil {
			return fmt.Errorf("receive from %s: %w", r.opts.QueueURL, err)
		}
		if len(out.Messages) == 0 {
			return nil
		}
		for _, m := range out.Messages {
			// Until its turn comes, and after, the message stays hidden.
			r.keep.hold(aws.ToString(m.MessageId), aws.ToString(m.ReceiptHandle))
		}
		fresh := false
		for _, m := range out.Messages {
			id, receipt := aws.ToString(m.MessageId), aws.ToString(m.ReceiptHandle)
			if prev, ok := r.seen[id]; ok {
				prev.Received++
				r.sum.ReceivedAgain++
				r.again(ctx, prev, receipt)
				continue
			}
			fresh = true
			if r.opts.Max > 0 && len(r.order) >= r.opts.Max {
				// Received beyond --max: leave it for the next run.
				r.keep.drop(id)
				r.releaseHandle(ctx, receipt)
				continue
			}
			res := r.message(ctx, id, aws.ToString(m.Body))
			res.receipt, res.Received = receipt, 1
			if res.Status == StatusRedriven {
				res.written = true
				r.delete(ctx, res)
			}
			r.seen[id] = res
			r.order = append(r.order, id)
			r.count(res)
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		switch {
		case fresh:
			idleSince = time.Time{}
		case idleSince.IsZero():
			idleSince = began
		}
		if !fresh && time.Since(idleSince) >= r.opts.WaitTime {
			// Only messages already handled, again and again for a whole
			// wait: they reappear as soon as they are hidden (their
			// visibility timeout lapses within a wait). A message not
			// received meanwhile stays in the queue for the next run.
			return nil
		}
	}
	return nil
}

// again handles a message received a second time in one run.
func (r *runner) again(ctx context.Context, prev *MessageResult, receipt string) {
	prev.receipt = receipt
	if !prev.written {
		return
	}
	// Its records are written: the message came back because the earlier
	// delete used a handle that was stale by then, which SQS accepts without
	// deleting the message, or failed (a handle that has expired is refused).
	// Delete it with the new one.
	before := prev.Status
	r.delete(ctx, prev)
	if prev.Deleted {
		prev.Status, prev.Reason = StatusRedriven, ""
	}
	if prev.Status != before {
		if prev.Deleted {
			r.progress.Failed--
			r.progress.Redriven++
		} else {
			r.progress.Redriven--
			r.progress.Failed++
		}
		r.report()
	}
}

// delete deletes the message of res. The keeper stops extending it first
// (drop waits for an extension under way): extended while or after it is
// deleted, its change would fail (SQS refuses a visibility change of a
// deleted message) and be reported as a failed extension. If the delete
// fails, the message is held again.
func (r *runner) delete(ctx context.Context, res *MessageResult) {
	r.keep.drop(res.MessageID)
	_, err := r.opts.Queue.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(r.opts.QueueURL), ReceiptHandle: aws.String(res.receipt)})
	if err != nil {
		r.keep.hold(res.MessageID, res.receipt)
		res.Deleted = false
		res.Status = StatusFailed
		res.Reason = fmt.Sprintf("the records were written, but deleting the message failed: %v (a rerun writes them again; to S3 under the same keys)", err)
		return
	}
	res.Deleted = true
}

// message redrives one message and returns its result (not yet deleted).
func (r *runner) message(ctx context.Context, id, body string) *MessageResult {
	res := &MessageResult{MessageID: id}
	_, rng, err := ParseMessage(body)
	if err != nil {
		res.Status, res.Reason = StatusInvalid, err.Error()+"; the message is left in the queue"
		return res
	}
	res.Range = &rng
	if r.opts.StreamARN != "" && rng.StreamARN != r.opts.StreamARN {
		res.Status, res.Reason = StatusInvalid, fmt.Sprintf("its range is of stream %s, not of %s, whose failures this run redrives; the message is left in the queue: redrive it with that stream's settings, or delete it once accounted for", rng.StreamARN, r.opts.StreamARN)
		return res
	}
	client, err := r.opts.Streams(rng.Region)
	if err != nil {
		res.Status, res.Reason = StatusFailed, fmt.Sprintf("kinesis client for %s: %v", rng.Region, err)
		return res
	}
	if r.opts.Stored != nil {
		r.opts.Stored.Forget()
	}
	rd := newRangeReader(client, rng)
	var chunk []Record
	chunkBytes := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		var keys []string
		var err error
		if r.opts.DryRun {
			if p, ok := r.opts.Writer.(Planner); ok {
				keys, err = p.Plan(ctx, rng, chunk)
			}
		} else {
			keys, err = r.opts.Writer.Write(ctx, rng, chunk)
			if err == nil {
				res.RecordsWritten += len(chunk)
				r.progress.RecordsWritten += len(chunk)
			}
		}
		res.Objects = append(res.Objects, keys...)
		chunk, chunkBytes = chunk[:0], 0
		r.report()
		return err
	}
	for {
		recs, done, err := rd.next(ctx)
		if err != nil {
			var (
				ee *ExpiredError
				me *MismatchError
			)
			if errors.As(err, &ee) {
				res.Status, res.Reason = StatusExpired, ee.Reason+"; the message is left in the queue"
			} else if errors.As(err, &me) {
				res.Status, res.Reason = StatusInvalid, me.Error()+"; the message is left in the queue"
			} else {
				res.Status, res.Reason = StatusFailed, "re-read the range: "+err.Error()
			}
			return res
		}
		for _, rec := range recs {
			res.RecordsRead++
			r.progress.RecordsRead++
			if r.opts.Filter != nil && !r.opts.Filter(rec.Data) {
				res.RecordsFiltered++
				r.progress.RecordsFiltered++
				continue
			}
			if r.opts.Stored != nil {
				held, err := r.opts.Stored.Holds(ctx, rec)
				if err != nil {
					res.Status, res.Reason = StatusFailed, "read the processor's objects: "+err.Error()
					return res
				}
				if held.All {
					res.RecordsStored++
					r.progress.RecordsStored++
					continue
				}
				rec.StoredUsers = held.Users
			}
			chunk = append(chunk, rec)
			chunkBytes += len(rec.Data) + len(rec.PartitionKey)
			if len(chunk) >= ChunkRecords || chunkBytes >= ChunkBytes {
				if err := flush(); err != nil {
					res.Status, res.Reason = StatusFailed, "write: "+err.Error()
					return res
				}
			}
		}
		if done {
			break
		}
	}
	if err := flush(); err != nil {
		res.Status, res.Reason = StatusFailed, "write: "+err.Error()
		return res
	}
	if r.opts.DryRun {
		res.Status = StatusWouldRedrive
	} else {
		res.Status = StatusRedriven
	}
	return res
}

func (r *runner) count(res *MessageResult) {
	r.progress.MessagesRead++
	switch res.Status {
	case StatusRedriven:
		r.progress.Redriven++
	case StatusExpired:
		r.progress.Expired++
	case StatusFailed, StatusInvalid:
		r.progress.Failed++
	}
	r.report()
}

func (r *runner) report() {
	if r.opts.Progress != nil {
		r.opts.Progress(r.progress)
	}
}

// release makes the messages held (received and not deleted: read, or not yet
// read when ctx ended the run) visible again.
func (r *runner) release(ctx context.Context, held map[string]string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for _, receipt := range held {
		r.releaseHandle(ctx, receipt)
	}
}

// releaseHandle sets a message's visibility timeout to 0. If that fails, the
// message reappears when its visibility timeout ends.
func (r *runner) releaseHandle(ctx context.Context, receipt string) {
	_, _ = r.opts.Queue.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(r.opts.QueueURL), ReceiptHandle: aws.String(receipt), VisibilityTimeout: 0})
}

// finish fills in the summary's totals.
func (r *runner) finish() {
	s := &r.sum
	for _, id := range r.order {
		res := r.seen[id]
		s.Messages = append(s.Messages, *res)
		s.MessagesRead++
		s.RecordsRead += res.RecordsRead
		s.RecordsFiltered += res.RecordsFiltered
		s.RecordsStored += res.RecordsStored
		s.RecordsWritten += res.RecordsWritten
		s.Objects += len(res.Objects)
		switch res.Status {
		case StatusRedriven:
			s.Redriven++
		case StatusWouldRedrive:
			s.WouldRedrive++
		case StatusExpired:
			s.Expired++
		case StatusFailed:
			s.Failed++
		case StatusInvalid:
			s.Invalid++
		}
		if !res.Deleted {
			s.LeftInQueue++
		}
	}
}
