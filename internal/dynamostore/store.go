package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/streamlake/streamlake/internal/summary"
)

// API is the part of *dynamodb.Client the store calls. The aggregator uses
// GetItem, BatchGetItem, UpdateItem and TransactWriteItems; queries use Query and
// Scan.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Defaults of the Store.
const (
	// DefaultMaxRounds bounds the optimistic-concurrency rounds of one Apply.
	DefaultMaxRounds = 30
	// MaxContributionBytes bounds the encoded contribution of one object. It is
	// kept in blob items of at most 300 KiB (DynamoDB items hold 400 KB) that are
	// written in one transaction (at most 4 MB).
	MaxContributionBytes = maxBlobParts * blobPartBytes
)

const (
	blobPartBytes = 300 << 10
	maxBlobParts  = 12
)

// ErrContributionTooLarge is returned (wrapped) when an object touches so many
// summary keys that its contribution cannot be kept in one item.
var ErrContributionTooLarge = errors.New("contribution too large for a DynamoDB item")

// Store keeps hourly summaries and per-object contributions in one DynamoDB table
// with string keys pk and sk. It implements summary.Store. It is safe for
// concurrent use, also by several processes on the same table.
type Store struct {
	client    API
	table     string
	ttlAttr   string
	ttl       time.Duration
	now       func() time.Time
	maxRounds int
	chunkSize int
	backoff   func(round int) time.Duration
}

// Option configures a Store.
type Option func(*Store)

// WithTTL makes the store write attribute attr (epoch seconds) on the items it
// writes: a summary expires d after the end of its hour, a contribution d after its
// last change. An empty attr (the default) writes none.
func WithTTL(attr string, d time.Duration) Option {
	return func(s *Store) { s.ttlAttr, s.ttl = attr, d }
}

// WithClock sets the clock used for updatedAt and TTL values (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithMaxRounds sets how many conflicting rounds one Apply tolerates before it
// returns an error (default DefaultMaxRounds).
func WithMaxRounds(n int) Option {
	return func(s *Store) {
		if n > 0 {
			s.maxRounds = n
		}
	}
}

// WithChunkSize sets how many summary changes go in one transaction (1 to
// summary.ChunkSize, the default). Smaller chunks only make sense in tests, to
// exercise multi-transaction transitions with small objects; a pending
// transition records its chunk size, so stores with different settings can still
// resume each other's transitions.
func WithChunkSize(n int) Option {
	return func(s *Store) {
		if n >= 1 && n <= summary.ChunkSize {
			s.chunkSize = n
		}
	}
}

// New returns a Store on table through client.
func New(client API, table string, opts ...Option) *Store {
	s := &Store{client: client, table: table, now: time.Now, maxRounds: DefaultMaxRounds, chunkSize: summary.ChunkSize, backoff: defaultBackoff}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Table returns the table name.
func (s *Store) Table() string { return s.table }

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("wait before retry: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}

// Environment variables read by OptionsFromEnv.
const (
	EnvTTLAttribute = "TTL_ATTRIBUTE"
	EnvTTLDays      = "TTL_DAYS"
)

// OptionsFromEnv returns the Store options set by TTL_ATTRIBUTE (empty: no
// expiry; see CheckTTLAttribute) and TTL_DAYS (whole days ≥ 1, required with
// TTL_ATTRIBUTE), read through getenv.
func OptionsFromEnv(getenv func(string) string) ([]Option, error) {
	attr := getenv(EnvTTLAttribute)
	if attr == "" {
		return nil, nil
	}
	if err := CheckTTLAttribute(attr); err != nil {
		return nil, fmt.Errorf("%s: %w", EnvTTLAttribute, err)
	}
	days, err := strconv.Atoi(getenv(EnvTTLDays))
	if err != nil || days < 1 {
		return nil, fmt.Errorf("%s %q: want a whole number of days ≥ 1 when %s is set", EnvTTLDays, getenv(EnvTTLDays), EnvTTLAttribute)
	}
	return []Option{WithTTL(attr, time.Duration(days)*24*time.Hour)}, nil
}

// CheckTTLAttribute reports whether attr can be the TTL attribute: not a name the
// store writes itself (pk, sk, count, first, last, the contribution items'
// attributes) and not ending in a per-field suffix (_n, _sum, _min, _max). The
// store sets the TTL attribute in the same update that adds to the others, and
// DynamoDB refuses an update whose two paths overlap (ValidationException "Two
// document paths overlap"), so such a name would fail every notification.
func CheckTTLAttribute(attr string) error {
	switch attr {
	case attrPK, attrSK, attrCount, attrFirst, attrLast, attrRev, attrETag, attrAppliedRev,
		attrAppliedParts, attrData, attrStats, attrRecords, attrSkipped, attrSummaryKeys,
		attrUpdatedAt, attrPendingETag, attrPendingParts, attrPendingChunks, attrChunkSize, attrDone:
		return fmt.Errorf("%q is an attribute the summaries table uses already; choose another name, such as expiresAt", attr)
	}
	for _, suf := range []string{suffixN, suffixSum, suffixMin, suffixMax} {
		if strings.HasSuffix(attr, suf) {
			return fmt.Errorf("%q ends like a numeric field's attributes (%s); choose another name, such as expiresAt", attr, suf)
		}
	}
	return nil
}
