package dynamostore_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestZeroSumIsStored checks that a summary item whose field values add up to 0
// (a counter that stayed at 0, a sensor reading 0 all hour, +1.5 and -1.5) holds
// <field>_sum = 0 beside <field>_n, _min and _max, as every other item does: a
// reader computing sum / n (boto3, pandas, Athena) must not find the sum missing.
func TestZeroSumIsStored(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 21, 10, 20, 0, 0, time.UTC)
	recs := []reading{
		{device: "zero", at: at, temp: "0"},
		{device: "zero", at: at.Add(time.Minute), temp: "0.0", hum: "1.5"},
		{device: "zero", at: at.Add(2 * time.Minute), temp: "-0", hum: "-1.5"},
	}
	key := objectKey(8, 1)
	h.handle(t, message(h.notification(key, h.put(t, key, body(recs, "2026-11-21T10:40:06.000Z")))))
	h.check(t, expected(t, recs), true)

	for _, pk := range []string{"DEVICE#zero", "FLEET"} {
		out, err := h.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(h.table), Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: "HOUR#2026-11-21T10"}}})
		if err != nil {
			t.Fatal(err)
		}
		for attr, want := range map[string]string{
			"count": "3", "temperature_n": "3", "temperature_sum": "0", "temperature_min": "0", "temperature_max": "0",
			"humidity_n": "2", "humidity_sum": "0", "humidity_min": "-1.5", "humidity_max": "1.5",
		} {
			got, ok := out.Item[attr].(*types.AttributeValueMemberN)
			if !ok || got.Value != want {
				t.Errorf("%s %s = %#v; want N %s", pk, attr, out.Item[attr], want)
			}
		}
	}
}
