package filter

import (
	"fmt"
	"sync"
	"unicode/utf8"
)

// MaxFilters is the number of filters one event source mapping may have: the
// default Lambda quota. AWS raises it to 10 per event source mapping on request;
// this package keeps the default so that a template which works locally also
// deploys without a quota increase.
const MaxFilters = 5

// MaxPatternLength is the longest Pattern, in characters (Unicode code points),
// that the Lambda API accepts for one filter.
const MaxPatternLength = 4096

// ValidationError reports a filter pattern that Lambda would refuse when the
// event source mapping is created or updated. Compile returns it as a
// *ValidationError; use errors.As to inspect it.
type ValidationError struct {
	// Filter is the 0-based index of the offending pattern in the list.
	Filter int
	// Pattern is the offending pattern text as given.
	Pattern string
	// Reason says what is wrong and where, e.g. `unknown operator "x" at data.name`.
	Reason string
}

// Error implements error: "filter <index>: <reason>".
func (e *ValidationError) Error() string {
	return fmt.Sprintf("filter %d: %s", e.Filter, e.Reason)
}

// Criteria is the compiled FilterCriteria of one Kinesis event source mapping.
// It is immutable after Compile and safe for concurrent use by multiple
// goroutines. A nil *Criteria behaves like one with zero filters.
type Criteria struct {
	filters []*filterPattern
	trie    trie
	pool    sync.Pool // *scratch
}

// filterPattern is one compiled filter. data == nil means the pattern is {} and
// matches every record.
type filterPattern struct {
	data *objPattern
}

// Compile validates and compiles the FilterCriteria patterns of one Kinesis event
// source mapping, in order. Zero patterns give a Criteria that passes every
// record. Any invalid pattern, or more than MaxFilters patterns, yields a
// *ValidationError naming the first offending filter.
func Compile(patterns []string) (*Criteria, error) {
	if len(patterns) > MaxFilters {
		return nil, &ValidationError{
			Filter:  MaxFilters,
			Pattern: patterns[MaxFilters],
			Reason: fmt.Sprintf("%d filters given: at most %d filters per event source mapping; AWS allows up to 10 by quota increase",
				len(patterns), MaxFilters),
		}
	}
	c := &Criteria{trie: newTrie()}
	for i, p := range patterns {
		fp, reason := compilePattern(p, &c.trie)
		if reason != "" {
			return nil, &ValidationError{Filter: i, Pattern: p, Reason: reason}
		}
		c.filters = append(c.filters, fp)
	}
	return c, nil
}

// Len returns the number of filters.
func (c *Criteria) Len() int {
	if c == nil {
		return 0
	}
	return len(c.filters)
}

// Match reports whether a Kinesis record's (base64-decoded) data passes: true if
// any filter matches. filter is the index of the first matching pattern, -1 if
// none. Criteria with zero patterns passes everything (ok=true, filter=-1). The
// data is parsed at most once per call, however many filters there are, and is
// not retained. Safe for concurrent use.
func (c *Criteria) Match(data []byte) (ok bool, filter int) {
	if c == nil || len(c.filters) == 0 {
		return true, -1
	}
	var (
		sc     *scratch
		parsed bool
		valid  bool
		root   int32
	)
	ok, filter = false, -1
	for i, f := range c.filters {
		if f.data == nil {
			ok, filter = true, i
			break
		}
		if !parsed {
			parsed = true
			sc = c.getScratch()
			var err error
			root, err = sc.parse(data, &c.trie)
			valid = err == nil
		}
		if valid && sc.objMatches(f.data, root) {
			ok, filter = true, i
			break
		}
	}
	if sc != nil {
		c.putScratch(sc)
	}
	return ok, filter
}

// Scratch buffers bigger than these are dropped after use instead of being kept
// for the next record, so one huge record does not pin memory forever.
const (
	maxPooledTape = 1 << 14
	maxPooledBuf  = 1 << 16
)

func (c *Criteria) getScratch() *scratch {
	if sc, _ := c.pool.Get().(*scratch); sc != nil {
		return sc
	}
	return &scratch{}
}

func (c *Criteria) putScratch(sc *scratch) {
	sc.data = nil
	if cap(sc.tape) > maxPooledTape || cap(sc.buf) > maxPooledBuf {
		return
	}
	c.pool.Put(sc)
}

// patternLength counts characters the way the Lambda API limit does (code points).
func patternLength(p string) int {
	return utf8.RuneCountInString(p)
}
