package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/streamlake/streamlake/internal/dynamostore"
	"github.com/streamlake/streamlake/internal/summary"
)

func init() {
	register(command{
		name:    "summaries",
		summary: "print the hourly summaries of a device or of the fleet",
		run:     runSummaries,
	})
}

// summariesTableEnv names the environment variable that provides --table's default.
const summariesTableEnv = "STREAMLAKE_SUMMARY_TABLE"

const summariesDescription = `Prints the hourly summaries the aggregator keeps in DynamoDB for one device
(--device) or for the whole fleet (--fleet, the default), for the hours from --from to --to
(inclusive, UTC): per hour the record count, the first and last event time and,
per numeric field, the average, minimum and maximum. It is one DynamoDB Query on
the partition with a sort-key range, never a Scan.

--from and --to take an RFC 3339 time (2026-11-21T13:40:00Z), an hour
(2026-11-21T13) or a day (2026-11-21; as --to it means the day's last hour).
Defaults: --to the latest hour that has data (now when none has; one more
Query, reading backwards, one item, and one per later hour whose records all
left), --from 24 hours before --to.

--json prints one JSON object:
  {"partition": PK, "from": T, "to": T, "hours": [{"hour": T, "count": N,
   "first": T, "last": T, "fields": {NAME: {"n": N, "sum": X, "avg": X,
   "min": X, "max": X}}}]}

After ` + "`streamlake local`" + ` it reads that run's emulator, region and table by
itself, with dummy credentials (from .local/session.json, or the session.json in
$` + workDirEnv + `), unless the environment points elsewhere: AWS_PROFILE, an
AWS_ACCESS_KEY_ID other than "testing", or an AWS_ENDPOINT_URL the run does not
serve. Otherwise credentials and region come from the default AWS chain
(AWS_ENDPOINT_URL points it at another emulator) and the table defaults to
$` + summariesTableEnv + ` (stack output SummaryTableName). Flags win over both.

Exit status: 0 on success (also when no hour has data), 1 when the query
fails, 2 for a usage error.`

func runSummaries(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "summaries", "", summariesDescription)
	device := fs.String("device", "", "device ID whose summaries to print")
	fleet := fs.Bool("fleet", false, "print the fleet's summaries (the default without --device; --fleet=false needs --device)")
	fromFlag := fs.String("from", "", "first hour (RFC 3339 time, 2006-01-02T15 or 2006-01-02; default: 24 hours before --to)")
	toFlag := fs.String("to", "", "last hour (same forms; default: the latest hour with data)")
	table := fs.String("table", e.getenv(summariesTableEnv), "DynamoDB table of the summaries (default $"+summariesTableEnv+")")
	region := fs.String("region", "", "AWS region (default: from the AWS configuration)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if done, code := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected argument %q", fs.Arg(0))
	}
	set := setFlags(fs)
	switch {
	case set["device"] && *device == "":
		return usageError(fs, "--device: want a device ID, got an empty one")
	case *device != "" && *fleet:
		return usageError(fs, "give one of --device ID and --fleet")
	case set["fleet"] && !*fleet && *device == "":
		return usageError(fs, "--fleet=false needs --device ID: there is nothing else to print")
	}
	ses, err := localSession(e)
	if err != nil {
		fmt.Fprintf(e.stderr, "streamlake summaries: %v\n", err)
		return exitFailure
	}
	if *table == "" && ses != nil {
		*table = ses.Output("SummaryTableName")
	}
	if *table == "" {
		return usageError(fs, "no table: pass --table, set %s, or run `streamlake local` first", summariesTableEnv)
	}
	pk := summary.FleetPK
	if *device != "" {
		pk = summary.DevicePK(*device)
	}
	// Whether a flag was given, not IsZero: --from 0001-01-01T00 is Go's zero time.
	var to, from time.Time
	hasTo, hasFrom := *toFlag != "", *fromFlag != ""
	if hasTo {
		t, err := parseHourFlag(*toFlag, true)
		if err != nil {
			return usageError(fs, "--to: %v", err)
		}
		to = t
	}
	if hasFrom {
		t, err := parseHourFlag(*fromFlag, false)
		if err != nil {
			return usageError(fs, "--from: %v", err)
		}
		from = t
	}
	if hasTo && hasFrom && to.Truncate(time.Hour).Before(from.Truncate(time.Hour)) {
		return usageError(fs, "--to (%s) is before --from (%s)", to.Format(summary.HourLayout), from.Format(summary.HourLayout))
	}

	noteLocal(e, "summaries", ses)
	clients, err := newAWSClients(ctx, e, ses, *region)
	if err != nil {
		fmt.Fprintf(e.stderr, "streamlake summaries: %v\n", err)
		return exitFailure
	}
	store := dynamostore.New(clients.DynamoDB(), *table)
	if !hasTo {
		to = time.Now().UTC()
		latest, ok, err := store.LatestHour(ctx, pk)
		if err != nil {
			fmt.Fprintf(e.stderr, "streamlake summaries: table %s: %v\n", *table, err)
			return exitFailure
		}
		if ok && (!hasFrom || !latest.Before(from)) {
			to = latest
		}
	}
	if !hasFrom {
		from = to.Add(-24 * time.Hour)
	}
	from, to = from.Truncate(time.Hour), to.Truncate(time.Hour)
	if to.Before(from) {
		return usageError(fs, "--to (%s) is before --from (%s)", to.Format(summary.HourLayout), from.Format(summary.HourLayout))
	}
	items, err := store.Query(ctx, pk, from, to)
	if err != nil {
		fmt.Fprintf(e.stderr, "streamlake summaries: table %s: %v\n", *table, err)
		return exitFailure
	}
	// An hour whose records all left (their object was overwritten without
	// them) keeps its item with count 0, and the first and last times and the
	// extremes of records that are gone (they only widen): it has no data.
	items = slices.DeleteFunc(items, func(it dynamostore.Item) bool { return it.Summary.Count == 0 })
	if *asJSON {
		err = writeSummariesJSON(e.stdout, pk, from, to, items)
	} else {
		err = writeSummariesText(e.stdout, pk, from, to, items)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "streamlake summaries: write output: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// parseHourFlag reads an RFC 3339 time, an hour (2006-01-02T15) or a day
// (2006-01-02), in UTC. A day as the end of a range means its last hour.
func parseHourFlag(s string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(summary.HourLayout, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.Add(23 * time.Hour)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time, an hour (2006-01-02T15) or a day (2006-01-02)", s)
}

// summaryFieldJSON is one numeric field in --json output. Sums and extremes are
// exact decimals written as JSON numbers.
type summaryFieldJSON struct {
	N   int64       `json:"n"`
	Sum json.Number `json:"sum"`
	Avg *float64    `json:"avg"`
	Min json.Number `json:"min,omitempty"`
	Max json.Number `json:"max,omitempty"`
}

type summaryHourJSON struct {
	Hour   string                      `json:"hour"`
	Count  int64                       `json:"count"`
	First  string                      `json:"first,omitempty"`
	Last   string                      `json:"last,omitempty"`
	Fields map[string]summaryFieldJSON `json:"fields"`
}

func writeSummariesJSON(w io.Writer, pk string, from, to time.Time, items []dynamostore.Item) error {
	out := struct {
		Partition string            `json:"partition"`
		From      string            `json:"from"`
		To        string            `json:"to"`
		Hours     []summaryHourJSON `json:"hours"`
	}{Partition: pk, From: from.Format(time.RFC3339), To: to.Format(time.RFC3339), Hours: []summaryHourJSON{}}
	for _, it := range items {
		hour, err := it.Key.Hour()
		if err != nil {
			return err
		}
		s := it.Summary
		h := summaryHourJSON{Hour: hour.Format(time.RFC3339), Count: s.Count, Fields: map[string]summaryFieldJSON{}}
		if s.Count > 0 {
			h.First = s.First.UTC().Format(time.RFC3339Nano)
			h.Last = s.Last.UTC().Format(time.RFC3339Nano)
		}
		for name, f := range s.Fields {
			fj := summaryFieldJSON{N: f.N, Sum: json.Number(f.Sum.String())}
			if avg, ok := f.Average(); ok {
				fj.Avg = &avg
				fj.Min, fj.Max = json.Number(f.Min.String()), json.Number(f.Max.String())
			}
			h.Fields[name] = fj
		}
		out.Hours = append(out.Hours, h)
	}
	return encodeJSON(w, out, true)
}

func writeSummariesText(w io.Writer, pk string, from, to time.Time, items []dynamostore.Item) error {
	fmt.Fprintf(w, "%s, hours %s to %s UTC: %d with data\n", pk, from.Format(summary.HourLayout), to.Format(summary.HourLayout), len(items))
	if len(items) == 0 {
		return nil
	}
	names := map[string]struct{}{}
	for _, it := range items {
		for n := range it.Summary.Fields {
			names[n] = struct{}{}
		}
	}
	fields := slices.Sorted(maps.Keys(names))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := []string{"HOUR", "COUNT"}
	for _, n := range fields {
		header = append(header, strings.ToUpper(n)+" AVG [MIN, MAX]")
	}
	header = append(header, "FIRST", "LAST")
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, it := range items {
		s := it.Summary
		hour, err := it.Key.Hour()
		if err != nil {
			return err
		}
		row := []string{hour.Format(summary.HourLayout), strconv.FormatInt(s.Count, 10)}
		for _, n := range fields {
			f := s.Fields[n]
			if avg, ok := f.Average(); ok {
				row = append(row, fmt.Sprintf("%s [%s, %s]", formatAverage(avg), f.Min, f.Max))
			} else {
				row = append(row, "-")
			}
		}
		first, last := "-", "-"
		if s.Count > 0 {
			first, last = s.First.UTC().Format("15:04:05.000"), s.Last.UTC().Format("15:04:05.000")
		}
		row = append(row, first, last)
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// formatAverage prints an average with at most three decimals.
func formatAverage(v float64) string {
	s := strconv.FormatFloat(v, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}
