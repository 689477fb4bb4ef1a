package dynamostore_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/streamlake/streamlake/internal/dynamostore"
)

func TestOptionsFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		n       int
		wantErr string
	}{
		{nil, 0, ""},
		{map[string]string{"TTL_ATTRIBUTE": "expiresAt", "TTL_DAYS": "30"}, 1, ""},
		{map[string]string{"TTL_ATTRIBUTE": "expiresAt"}, 0, "TTL_DAYS"},
		{map[string]string{"TTL_ATTRIBUTE": "expiresAt", "TTL_DAYS": "0"}, 0, "TTL_DAYS"},
		{map[string]string{"TTL_DAYS": "x"}, 0, ""}, // ignored without an attribute
		// Names the store writes itself would fail every update.
		{map[string]string{"TTL_ATTRIBUTE": "count", "TTL_DAYS": "30"}, 0, `"count" is an attribute the summaries table uses`},
		{map[string]string{"TTL_ATTRIBUTE": "pk", "TTL_DAYS": "30"}, 0, `"pk" is an attribute`},
		{map[string]string{"TTL_ATTRIBUTE": "data", "TTL_DAYS": "30"}, 0, `"data" is an attribute`},
		{map[string]string{"TTL_ATTRIBUTE": "temperature_sum", "TTL_DAYS": "30"}, 0, "ends like a numeric field's"},
		{map[string]string{"TTL_ATTRIBUTE": "ttl_n", "TTL_DAYS": "30"}, 0, "ends like a numeric field's"},
		{map[string]string{"TTL_ATTRIBUTE": "ttl", "TTL_DAYS": "30"}, 1, ""},
	} {
		opts, err := dynamostore.OptionsFromEnv(func(k string) string { return tc.env[k] })
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("OptionsFromEnv(%v) = %v; want an error about %s", tc.env, err, tc.wantErr)
			}
			continue
		}
		if err != nil || len(opts) != tc.n {
			t.Errorf("OptionsFromEnv(%v) = %d options, %v; want %d", tc.env, len(opts), err, tc.n)
		}
	}
}

func TestTTL(t *testing.T) {
	e := newEnv(t)
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	h := e.harness(t, nil, dynamostore.WithTTL("expiresAt", 30*24*time.Hour), dynamostore.WithClock(func() time.Time { return now }))
	recs := readings(41, 20, 2, 1)
	k := objectKey(7, 1)
	h.handle(t, message(h.notification(k, h.put(t, k, body(recs, "s")))))
	h.check(t, expected(t, recs), true)

	hour := recs[0].at.Truncate(time.Hour)
	want := map[string]int64{
		"FLEET|HOUR#" + hour.Format("2006-01-02T15"): hour.Add(time.Hour + 30*24*time.Hour).Unix(),
		"OBJECT#" + k + "|CONTRIBUTION":              now.Add(30 * 24 * time.Hour).Unix(),
	}
	for key, ttl := range want {
		pk, sk, _ := strings.Cut(key, "|")
		out, err := e.ddb.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(e.table),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := out.Item["expiresAt"].(*types.AttributeValueMemberN)
		if got == nil || got.Value != strconv.FormatInt(ttl, 10) {
			t.Errorf("%s expiresAt = %v; want %d", key, got, ttl)
		}
	}
}
