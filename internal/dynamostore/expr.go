package dynamostore

import (
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// expr builds one update expression with its condition. Every attribute name goes
// through a placeholder, so field names that are reserved words or hold odd
// characters are safe.
type expr struct {
	names                   map[string]string
	byName                  map[string]string
	values                  map[string]types.AttributeValue
	adds, sets, removes, cs []string
}

func newExpr() *expr {
	return &expr{names: map[string]string{}, byName: map[string]string{}, values: map[string]types.AttributeValue{}}
}

func (e *expr) n(attr string) string {
	if p, ok := e.byName[attr]; ok {
		return p
	}
	p := "#a" + strconv.Itoa(len(e.names))
	e.names[p] = attr
	e.byName[attr] = p
	return p
}

func (e *expr) v(val types.AttributeValue) string {
	p := ":v" + strconv.Itoa(len(e.values))
	e.values[p] = val
	return p
}

func (e *expr) add(attr string, val types.AttributeValue) {
	e.adds = append(e.adds, e.n(attr)+" "+e.v(val))
}

func (e *expr) set(attr string, val types.AttributeValue) string {
	p := e.v(val)
	e.sets = append(e.sets, e.n(attr)+" = "+p)
	return p
}

func (e *expr) remove(attr string) { e.removes = append(e.removes, e.n(attr)) }

func (e *expr) cond(c string) { e.cs = append(e.cs, c) }

func (e *expr) empty() bool { return len(e.adds)+len(e.sets)+len(e.removes) == 0 }

func (e *expr) updateExpression() *string {
	var parts []string
	if len(e.adds) > 0 {
		parts = append(parts, "ADD "+strings.Join(e.adds, ", "))
	}
	if len(e.sets) > 0 {
		parts = append(parts, "SET "+strings.Join(e.sets, ", "))
	}
	if len(e.removes) > 0 {
		parts = append(parts, "REMOVE "+strings.Join(e.removes, ", "))
	}
	return aws.String(strings.Join(parts, " "))
}

func (e *expr) conditionExpression() *string {
	if len(e.cs) == 0 {
		return nil
	}
	return aws.String(strings.Join(e.cs, " AND "))
}

func (e *expr) valuesOrNil() map[string]types.AttributeValue {
	if len(e.values) == 0 {
		return nil
	}
	return e.values
}

// update returns the transaction action for the item at key.
func (e *expr) update(table string, key map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(table),
		Key:                       key,
		UpdateExpression:          e.updateExpression(),
		ConditionExpression:       e.conditionExpression(),
		ExpressionAttributeNames:  e.names,
		ExpressionAttributeValues: e.valuesOrNil(),
	}}
}
