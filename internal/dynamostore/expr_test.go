package dynamostore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/streamlake/streamlake/internal/summary"
)

// noItems answers every BatchGetItem with no item: every extreme is new.
type noItems struct{ API }

func (noItems) BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return &dynamodb.BatchGetItemOutput{}, nil
}

// DynamoDB refuses an expression string over 4 KB or with more than 300
// operators or functions
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-expression-parameters).
const (
	maxExpressionBytes     = 4096
	maxExpressionOperators = 300
)

// operators counts the comparators, logical operators and functions of a
// condition or update expression.
func operators(e string) int {
	n := 0
	for _, op := range []string{" AND ", " OR ", "NOT ", " = ", " < ", " > ", "attribute_not_exists(", "contains(", "size("} {
		n += strings.Count(e, op)
	}
	return n
}

// TestExpressionLimits checks that the first write of a summary item, which sets
// and conditions every extreme, stays within DynamoDB's expression limits with
// summary.MaxNumericFields fields (and a TTL attribute), and that the limit is
// needed: with 40 fields the condition passes them.
func TestExpressionLimits(t *testing.T) {
	s := New(noItems{}, "t", WithTTL("expiresAt", time.Hour))
	change := func(fields int) summary.Change {
		at := time.Date(2026, 11, 21, 13, 40, 0, 0, time.UTC)
		ch := summary.Change{Key: summary.FleetKey(at), Count: 1, First: at, Last: at, HasFirst: true, HasLast: true, Fields: map[string]summary.FieldChange{}}
		v, _ := summary.ParseDecimal("21.43")
		for i := range fields {
			ch.Fields[fmt.Sprintf("f%d", i)] = summary.FieldChange{N: 1, Sum: v, Min: v, Max: v, HasMin: true, HasMax: true}
		}
		return ch
	}
	within := func(fields int) error {
		actions, err := s.summaryActions(context.Background(), []summary.Change{change(fields)})
		if err != nil {
			return err
		}
		u := actions[0].Update
		for _, e := range []string{*u.UpdateExpression, *u.ConditionExpression} {
			if len(e) > maxExpressionBytes || operators(e) > maxExpressionOperators {
				return fmt.Errorf("expression of %d bytes with %d operators: %.80s…", len(e), operators(e), e)
			}
		}
		return nil
	}
	if err := within(summary.MaxNumericFields); err != nil {
		t.Errorf("%d fields: %v; want within DynamoDB's limits", summary.MaxNumericFields, err)
	}
	if err := within(40); err == nil {
		t.Errorf("40 fields: within DynamoDB's limits; then summary.MaxNumericFields could be larger")
	}
}
