package dynamostore

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/streamlake/streamlake/internal/summary"
)

// Attribute names.
const (
	attrPK    = "pk"
	attrSK    = "sk"
	attrCount = "count"
	attrFirst = "first"
	attrLast  = "last"

	// Contribution items.
	contributionPrefix = "OBJECT#"
	contributionSK     = "CONTRIBUTION"
	attrRev            = "rev"
	attrETag           = "etag"
	attrAppliedRev     = "appliedRev"
	attrAppliedParts   = "appliedParts"
	attrData           = "data"
	blobPrefix         = "BLOB#"
	attrStats          = "stats"
	attrRecords        = "records"
	attrSkipped        = "skipped"
	attrSummaryKeys    = "summaryKeys"
	attrUpdatedAt      = "updatedAt"
	attrPendingETag    = "pendingEtag"
	attrPendingParts   = "pendingParts"
	attrPendingChunks  = "pendingChunks"
	attrChunkSize      = "chunkSize"
	attrDone           = "done"
)

// Suffixes of the per-field attributes of a summary item: <field>_n, _sum, _min, _max.
const (
	suffixN   = "_n"
	suffixSum = "_sum"
	suffixMin = "_min"
	suffixMax = "_max"
)

// ContributionKey returns the key of the contribution item of an object.
func ContributionKey(objectKey string) summary.Key {
	return summary.Key{PK: contributionPrefix + objectKey, SK: contributionSK}
}

func keyAttrs(k summary.Key) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(k.PK), attrSK: str(k.SK)}
}

func str(s string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func dec(d summary.Decimal) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: d.String()}
}

// getString returns a string attribute; ok is false if it is absent.
func getString(item map[string]types.AttributeValue, name string) (string, bool) {
	v, ok := item[name].(*types.AttributeValueMemberS)
	if !ok {
		return "", false
	}
	return v.Value, true
}

func getNumber(item map[string]types.AttributeValue, name string) (summary.Decimal, bool, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return summary.Decimal{}, false, nil
	}
	d, err := summary.ParseDecimal(v.Value)
	if err != nil {
		return summary.Decimal{}, false, fmt.Errorf("attribute %s: %w", name, err)
	}
	return d, true, nil
}

func getInt(item map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s: %w", name, err)
	}
	return n, nil
}

// decodeSummary reads a summary item. Attributes that do not belong to the
// summary format (and the TTL attribute) are ignored.
func decodeSummary(item map[string]types.AttributeValue, ttlAttr string) (summary.Key, *summary.Summary, error) {
	pk, _ := getString(item, attrPK)
	sk, _ := getString(item, attrSK)
	k := summary.Key{PK: pk, SK: sk}
	s := &summary.Summary{}
	var err error
	if s.Count, err = getInt(item, attrCount); err != nil {
		return k, nil, fmt.Errorf("summary %s: %w", k, err)
	}
	for _, a := range []struct {
		name string
		dst  *time.Time
	}{{attrFirst, &s.First}, {attrLast, &s.Last}} {
		if v, ok := getString(item, a.name); ok {
			if *a.dst, err = summary.ParseTime(v); err != nil {
				return k, nil, fmt.Errorf("summary %s: %w", k, err)
			}
		}
	}
	for name, v := range item {
		if name == ttlAttr {
			continue
		}
		if _, isNum := v.(*types.AttributeValueMemberN); !isNum {
			continue
		}
		var field, suffix string
		for _, suf := range []string{suffixSum, suffixMin, suffixMax, suffixN} {
			if f, ok := strings.CutSuffix(name, suf); ok && f != "" {
				field, suffix = f, suf
				break
			}
		}
		if field == "" {
			continue
		}
		if s.Fields == nil {
			s.Fields = map[string]summary.Field{}
		}
		f := s.Fields[field]
		d, _, err := getNumber(item, name)
		if err != nil {
			return k, nil, fmt.Errorf("summary %s: %w", k, err)
		}
		switch suffix {
		case suffixN:
			f.N, err = getInt(item, name)
			if err != nil {
				return k, nil, fmt.Errorf("summary %s: %w", k, err)
			}
		case suffixSum:
			f.Sum = d
		case suffixMin:
			f.Min = d
		case suffixMax:
			f.Max = d
		}
		s.Fields[field] = f
	}
	return k, s, nil
}

// contributionState is a decoded contribution item.
type contributionState struct {
	exists bool
	rev    int64
	etag   string
	// appliedRev and appliedParts locate the blob items of the applied
	// contribution (appliedParts 0: none).
	appliedRev   int64
	appliedParts int
	// During a transition: the new ETag, the blob items of the new contribution
	// (under rev), the number of chunks and the chunks applied so far.
	pendingETag  string
	pendingParts int
	chunks       int
	chunkSize    int
	done         map[int]bool
}

func decodeState(item map[string]types.AttributeValue) (*contributionState, error) {
	st := &contributionState{done: map[int]bool{}}
	if len(item) == 0 {
		return st, nil
	}
	st.exists = true
	ints := []struct {
		name string
		dst  *int64
	}{{attrRev, &st.rev}, {attrAppliedRev, &st.appliedRev}}
	for _, a := range ints {
		v, err := getInt(item, a.name)
		if err != nil {
			return nil, err
		}
		*a.dst = v
	}
	counts := []struct {
		name string
		dst  *int
	}{{attrAppliedParts, &st.appliedParts}, {attrPendingParts, &st.pendingParts}, {attrPendingChunks, &st.chunks}, {attrChunkSize, &st.chunkSize}}
	for _, a := range counts {
		v, err := getInt(item, a.name)
		if err != nil {
			return nil, err
		}
		*a.dst = int(v)
	}
	st.etag, _ = getString(item, attrETag)
	st.pendingETag, _ = getString(item, attrPendingETag)
	if ns, ok := item[attrDone].(*types.AttributeValueMemberNS); ok {
		for _, v := range ns.Value {
			i, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("attribute %s: %w", attrDone, err)
			}
			st.done[i] = true
		}
	}
	if st.pendingETag != "" && (st.pendingParts < 1 || st.chunks < 1) {
		return nil, fmt.Errorf("contribution item has %s but no pending parts or chunks", attrPendingETag)
	}
	if st.chunkSize < 1 || st.chunkSize > summary.ChunkSize {
		st.chunkSize = summary.ChunkSize
	}
	return st, nil
}

// blobKey is the key of part i of the encoded contribution written at revision rev.
func blobKey(objectKey string, rev int64, part int) summary.Key {
	return summary.Key{PK: contributionPrefix + objectKey, SK: fmt.Sprintf("%s%012d#%03d", blobPrefix, rev, part)}
}

// decodeContribution decodes an encoded contribution; nil bytes are no contribution.
func decodeContribution(b []byte) (*summary.Contribution, error) {
	if b == nil {
		return nil, nil
	}
	c := &summary.Contribution{}
	if err := c.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return c, nil
}

// statsAttrs returns the human-readable attributes describing a contribution.
func statsValue(st summary.Stats) types.AttributeValue {
	m := map[string]types.AttributeValue{
		"lines":        num(st.Lines),
		"records":      num(st.Records),
		"malformed":    num(st.Malformed),
		"noDevice":     num(st.NoDevice),
		"noTime":       num(st.NoTime),
		"timeFallback": num(st.TimeFallback),
		"invalidTime":  num(st.InvalidTime),
	}
	if len(st.NonNumeric) > 0 {
		nn := map[string]types.AttributeValue{}
		for k, v := range st.NonNumeric {
			nn[k] = num(v)
		}
		m["nonNumeric"] = &types.AttributeValueMemberM{Value: nn}
	}
	if len(st.OutOfRange) > 0 {
		oor := map[string]types.AttributeValue{}
		for k, v := range st.OutOfRange {
			oor[k] = num(v)
		}
		m["outOfRange"] = &types.AttributeValueMemberM{Value: oor}
	}
	return &types.AttributeValueMemberM{Value: m}
}
