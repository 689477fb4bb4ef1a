package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/streamlake/streamlake/internal/awsconfig"
	"github.com/streamlake/streamlake/internal/dynamostore"
	"github.com/streamlake/streamlake/internal/motoserver"
	"github.com/streamlake/streamlake/internal/summary"
)

func runSummariesCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, getenv: os.Getenv}
	code := run(context.Background(), e, append([]string{"summaries"}, args...))
	return code, stdout.String(), stderr.String()
}

// summariesTable creates a summaries table in moto holding the aggregate of a few
// sensor lines.
func summariesTable(t *testing.T) string {
	t.Helper()
	motoserver.ForTest(t)
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := dynamodb.NewFromConfig(cfg)
	table := "cli-summaries-" + strings.ToLower(t.Name())
	_, err = client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	var lines strings.Builder
	for i, r := range []struct {
		device, at, temp string
	}{
		{"sensor-0001", "2026-11-21T13:05:00.250Z", "21.5"},
		{"sensor-0001", "2026-11-21T13:55:00Z", "22.5"},
		{"sensor-0001", "2026-11-21T15:10:00Z", "-3.25"},
		{"sensor-0002", "2026-11-21T13:30:00Z", "30"},
	} {
		fmt.Fprintf(&lines, `{"original_data":{"device_id":%q,"temperature":%s,"humidity":50,"timestamp":%q},"approximate_arrival_timestamp":%q,"sequence_number":"%d"}`+"\n",
			r.device, r.temp, r.at, r.at, i)
	}
	applyObject(t, table, "processed/x.ndjson", "etag-1", lines.String())
	return table
}

// applyObject aggregates lines as the aggregator does a version (etag) of
// object key, into the summaries table.
func applyObject(t *testing.T, table, key, etag, lines string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := summary.Config{}.ParseObject(key, []byte(lines))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dynamostore.New(dynamodb.NewFromConfig(cfg), table).Apply(ctx, key, etag, c); err != nil {
		t.Fatal(err)
	}
}

func TestSummariesText(t *testing.T) {
	table := summariesTable(t)
	code, out, errOut := runSummariesCLI(t, "--device", "sensor-0001", "--from", "2026-11-21T12", "--to", "2026-11-21", "--table", table)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	want := []string{
		"DEVICE#sensor-0001, hours 2026-11-21T12 to 2026-11-21T23 UTC: 2 with data",
		"HOUR           COUNT  HUMIDITY AVG [MIN, MAX]  TEMPERATURE AVG [MIN, MAX]  FIRST         LAST",
		"2026-11-21T13  2      50 [50, 50]              22 [21.5, 22.5]             13:05:00.250  13:55:00.000",
		"2026-11-21T15  1      50 [50, 50]              -3.25 [-3.25, -3.25]        15:10:00.000  15:10:00.000",
	}
	if got := strings.Split(strings.TrimSpace(out), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}

	t.Setenv(summariesTableEnv, table)
	code, out, _ = runSummariesCLI(t, "--fleet", "--from", "2026-11-21T14:00:00Z", "--to", "2026-11-21T14:59:00Z")
	if code != exitOK || !strings.Contains(out, "FLEET, hours 2026-11-21T14 to 2026-11-21T14 UTC: 0 with data") {
		t.Errorf("empty range: exit %d, output %q; want a header saying no hour has data", code, out)
	}
}

// TestSummariesSkipHoursWithoutRecords: an hour whose records all left, when
// their object was overwritten without them, keeps an item of count 0, which
// is no data.
func TestSummariesSkipHoursWithoutRecords(t *testing.T) {
	table := summariesTable(t)
	applyObject(t, table, "processed/x.ndjson", "etag-2",
		`{"original_data":{"device_id":"sensor-0001","temperature":21.5,"humidity":50,"timestamp":"2026-11-21T13:05:00.250Z"},"approximate_arrival_timestamp":"2026-11-21T13:05:00.250Z","sequence_number":"0"}`+"\n")
	code, out, errOut := runSummariesCLI(t, "--device", "sensor-0002", "--from", "2026-11-21T13", "--to", "2026-11-21T13", "--table", table)
	if code != exitOK || strings.TrimSpace(out) != "DEVICE#sensor-0002, hours 2026-11-21T13 to 2026-11-21T13 UTC: 0 with data" {
		t.Errorf("exit %d (%s), output:\n%s\nwant the header with 0 hours of data", code, errOut, out)
	}
	code, out, _ = runSummariesCLI(t, "--device", "sensor-0002", "--from", "2026-11-21T13", "--to", "2026-11-21T13", "--table", table, "--json")
	if code != exitOK || strings.Contains(out, `"hour"`) {
		t.Errorf("--json: exit %d, output %s; want no hour", code, out)
	}
}

// TestSummariesDefaultEndsAtAnHourWithData: without --to the range ends at the
// latest hour with data, not at a later hour whose records all left (its item
// has count 0).
func TestSummariesDefaultEndsAtAnHourWithData(t *testing.T) {
	table := summariesTable(t)
	// A reading two days later, then its object overwritten without it.
	for etag, line := range []string{
		`{"original_data":{"device_id":"sensor-0001","temperature":20,"timestamp":"2026-11-23T10:00:00Z"},"approximate_arrival_timestamp":"2026-11-23T10:00:00Z","sequence_number":"10"}` + "\n",
		`{"original_data":{"device_id":"sensor-0003","temperature":20,"timestamp":"2026-11-21T13:00:00Z"},"approximate_arrival_timestamp":"2026-11-21T13:00:00Z","sequence_number":"10"}` + "\n",
	} {
		applyObject(t, table, "processed/y.ndjson", fmt.Sprintf("etag-%d", etag), line)
	}
	code, out, errOut := runSummariesCLI(t, "--device", "sensor-0001", "--table", table)
	if want := "DEVICE#sensor-0001, hours 2026-11-20T15 to 2026-11-21T15 UTC: 2 with data"; code != exitOK || !strings.HasPrefix(out, want+"\n") {
		t.Errorf("exit %d (%s), output:\n%s\nwant it to begin with %q", code, errOut, out, want)
	}
}

func TestSummariesJSON(t *testing.T) {
	table := summariesTable(t)
	code, out, errOut := runSummariesCLI(t, "--fleet", "--from", "2026-11-21T13:00:00Z", "--to", "2026-11-21T15:00:00Z", "--table", table, "--json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	var got struct {
		Partition string `json:"partition"`
		Hours     []struct {
			Hour   string `json:"hour"`
			Count  int    `json:"count"`
			First  string `json:"first"`
			Fields map[string]struct {
				N   int         `json:"n"`
				Sum json.Number `json:"sum"`
				Avg float64     `json:"avg"`
				Min json.Number `json:"min"`
				Max json.Number `json:"max"`
			} `json:"fields"`
		} `json:"hours"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if got.Partition != "FLEET" || len(got.Hours) != 2 {
		t.Fatalf("got %+v; want FLEET with hours 13 and 15", got)
	}
	h := got.Hours[0]
	temp := h.Fields["temperature"]
	if h.Hour != "2026-11-21T13:00:00Z" || h.Count != 3 || h.First != "2026-11-21T13:05:00.25Z" ||
		temp.N != 3 || temp.Sum != "74" || temp.Min != "21.5" || temp.Max != "30" || temp.Avg < 24.66 || temp.Avg > 24.67 {
		t.Errorf("hour 13 = %+v; want count 3, temperature n 3 sum 74 min 21.5 max 30 avg 24.67", h)
	}
}

func TestSummariesUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"both", []string{"--device", "d", "--fleet", "--table", "t"}, "give one of --device ID and --fleet"},
		{"empty device", []string{"--device", "", "--table", "t"}, "--device: want a device ID, got an empty one"},
		{"empty device and fleet", []string{"--device=", "--fleet", "--table", "t"}, "--device: want a device ID, got an empty one"},
		{"not the fleet, no device", []string{"--fleet=false", "--table", "t"}, "--fleet=false needs --device ID"},
		{"no table", []string{"--fleet"}, "no table"},
		{"bad from", []string{"--fleet", "--table", "t", "--from", "yesterday"}, "--from"},
		{"bad to", []string{"--fleet", "--table", "t", "--to", "2026-13-01"}, "--to"},
		{"reversed", []string{"--fleet", "--table", "t", "--from", "2026-11-21T13", "--to", "2026-11-21T12"}, "before --from"},
		{"argument", []string{"--fleet", "--table", "t", "extra"}, "unexpected argument"},
		{"unknown flag", []string{"--fleet", "--nope"}, "flag provided but not defined"},
	}
	t.Setenv(summariesTableEnv, "")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runSummariesCLI(t, tc.args...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("summaries %v = exit %d, stderr %q; want exit 2 mentioning %q", tc.args, code, errOut, tc.want)
			}
		})
	}
	if code, _, errOut := runSummariesCLI(t, "--help"); code != exitOK || !strings.Contains(errOut, "never a Scan") {
		t.Errorf("--help = exit %d, %q; want exit 0 and the description", code, errOut)
	}
}

func TestSummariesQueryFailure(t *testing.T) {
	motoserver.ForTest(t)
	code, _, errOut := runSummariesCLI(t, "--fleet", "--table", "no-such-table-summaries", "--to", "2026-11-21T13")
	if code != exitFailure || !strings.Contains(errOut, "table no-such-table-summaries: query summaries of FLEET") || !strings.Contains(errOut, "ResourceNotFound") {
		t.Errorf("missing table: exit %d, stderr %q; want exit 1 naming the table and the query", code, errOut)
	}
	// Without --to, the first query looks for the latest hour.
	code, _, errOut = runSummariesCLI(t, "--fleet", "--table", "no-such-table-summaries")
	if code != exitFailure || !strings.Contains(errOut, "table no-such-table-summaries: query the latest summary of FLEET") || !strings.Contains(errOut, "ResourceNotFound") {
		t.Errorf("missing table: exit %d, stderr %q; want exit 1 naming the table and the query", code, errOut)
	}
}

// TestSummariesZeroTime: Go's zero time is an hour like any other, for --from
// and --to, and a record at it shows its first and last time.
func TestSummariesZeroTime(t *testing.T) {
	table := summariesTable(t)
	applyObject(t, table, "processed/z.ndjson", "etag-z",
		`{"original_data":{"device_id":"sensor-0009","temperature":1,"timestamp":"0001-01-01T00:00:00Z"},"approximate_arrival_timestamp":"2026-11-21T13:05:00.250Z","sequence_number":"0"}`+"\n")
	code, out, errOut := runSummariesCLI(t, "--fleet", "--from", "0001-01-01T00", "--to", "0001-01-01T00", "--table", table)
	if code != exitOK || !strings.HasPrefix(out, "FLEET, hours 0001-01-01T00 to 0001-01-01T00 UTC: 1 with data\n") ||
		!strings.Contains(out, "00:00:00.000\t00:00:00.000") && !strings.Contains(out, "00:00:00.000  00:00:00.000") {
		t.Errorf("exit %d (%s), output:\n%s\nwant the zero hour with its first and last time", code, errOut, out)
	}
	// --from at the zero time is not "no --from": the range starts there.
	code, out, errOut = runSummariesCLI(t, "--fleet", "--from", "0001-01-01T00", "--to", "2026-11-21T23", "--table", table, "--json")
	if code != exitOK || !strings.Contains(out, `"from": "0001-01-01T00:00:00Z"`) || !strings.Contains(out, `"first": "0001-01-01T00:00:00Z"`) {
		t.Errorf("--from 0001-01-01T00 --json: exit %d (%s), output:\n%s\nwant the range from the zero hour, its record's first time", code, errOut, out)
	}
}
