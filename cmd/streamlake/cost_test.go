package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// costJSON runs `cost --json` and decodes its estimate.
//
// The figures of the tests below were computed by hand for batches of at most
// 1,000 records, so unless a test sets --batch-size (or --recipe) it is given
// as 1000; the template's own defaults are tested by TestCostTemplateDefaults.
func costJSON(t *testing.T, args ...string) costEstimate {
	t.Helper()
	if !slices.Contains(args, "--batch-size") && !slices.Contains(args, "--recipe") {
		args = append([]string{"--batch-size", "1000"}, args...)
	}
	code, stdout, stderr := runCmd(t, false, append([]string{"cost", "--json", "--template", testTemplate}, args...)...)
	if code != exitOK {
		t.Fatalf("cost %v exit = %d; want 0; stderr:\n%s", args, code, stderr)
	}
	var est costEstimate
	if err := json.Unmarshal([]byte(stdout), &est); err != nil {
		t.Fatalf("cost %v --json printed %q: %v", args, stdout, err)
	}
	return est
}

// testTemplate is the project's template, seen from this package's directory.
const testTemplate = "../../template.yaml"

func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

// TestCostArithmetic checks every line item against figures computed by hand
// from the list prices (the wants are literal numbers, not the code's formulas).
func TestCostArithmetic(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		batch   float64            // records per batch
		items   map[string]float64 // $ per month
		total   float64
		perMRec float64
	}{
		{
			name:  "defaults, given duration and shards",
			args:  []string{"--rate", "1000", "--record-bytes", "166", "--duration-ms", "40", "--shards", "1"},
			batch: 1000,
			items: map[string]float64{
				// 2,628,000 batches a month.
				"Lambda requests":                             0.5256,      // 2.628M × $0.20/M
				"Lambda duration":                             0.350401752, // 2.628M × 0.25 GB × 0.040 s × $0.0000133334
				"S3 PUT (one object per batch)":               13.14,       // 2.628M × $0.005/1000
				"S3 storage (one month of a month's objects)": 3.7565946,   // 2.628G records × 62.15 B = 163.3302 GB × $0.023
				"Kinesis shard-hours":                         10.95,       // 730 × $0.015
				"Kinesis PUT payload units":                   36.792,      // 2.628G units × $0.014/M
			},
			total:   65.514596352,
			perMRec: 65.514596352 / 2628,
		},
		{
			name:  "window gathers fewer records than the batch size; duration rounds up",
			args:  []string{"--rate", "100", "--record-bytes", "166", "--duration-ms", "40.2", "--shards", "1", "--memory", "1024"},
			batch: 500, // 100 records/s × 5 s
			items: map[string]float64{
				"Lambda requests": 0.10512,      // 525,600 batches × $0.20/M
				"Lambda duration": 0.2873294366, // 525,600 × 1 GB × 0.041 s = 21,549.6 GB-s × $0.0000133334
			},
		},
		{
			name:  "window 0 polls once a second, over two shards",
			args:  []string{"--rate", "500", "--record-bytes", "166", "--window", "0", "--duration-ms", "10", "--shards", "2"},
			batch: 250,
			items: map[string]float64{
				"Lambda requests":     1.0512, // 2 batches/s = 5,256,000 a month
				"Kinesis shard-hours": 21.9,
			},
		},
		{
			name:  "large records: the 6 MB payload caps the batch and each record is 4 PUT units",
			args:  []string{"--rate", "100", "--record-bytes", "100000", "--duration-ms", "100"},
			batch: 46, // 6,291,456 / (33,334×4 + 600) = 46.97; 10 shards of 10 records/s gather 50 in 5 s
			items: map[string]float64{
				"Kinesis shard-hours":       109.5,   // 10 shards: 100 × 100,000 B/s = 9.54 MiB/s
				"Kinesis PUT payload units": 14.7168, // 262.8M records × 4 units × $0.014/M
			},
		},
		{
			name:  "on-demand rounds each record up to 1 KB",
			args:  []string{"--rate", "1000", "--record-bytes", "166", "--on-demand", "--duration-ms", "40"},
			batch: 1000, // 4 shards at least: 250 records/s each fill a batch of 1000 in 4 s < 5 s
			items: map[string]float64{
				"Kinesis on-demand stream-hours": 29.2, // 730 × $0.04
				// set below from the GiB written
			},
		},
		{
			name:  "recipe preset",
			args:  []string{"--rate", "1000", "--record-bytes", "166", "--recipe", "--duration-ms", "50", "--shards", "1"},
			batch: 100,
			items: map[string]float64{
				"Lambda requests":                             5.256, // 26.28M batches
				"S3 PUT (one object per batch)":               131.4,
				"S3 storage (one month of a month's objects)": 34.634412,   // 2.628G × 573 B = 1505.844 GB × $0.023
				"Lambda duration":                             4.380021900, // 26.28M × 0.25 GB × 0.050 s × $0.0000133334
			},
		},
		{
			name:  "aggregator",
			args:  []string{"--rate", "1000", "--record-bytes", "166", "--aggregator", "--duration-ms", "40", "--shards", "1"},
			batch: 1000,
			items: map[string]float64{
				"S3 GET (aggregator reads each object)":        1.0512,  // 2.628M × $0.0004/1000
				"SQS requests (notification, receive, delete)": 1.26144, // 2.628M × 1.2 × $0.40/M
				"DynamoDB writes (summaries, transactional)":   427.05,  // 2.628M objects × 260 WRU × $0.625/M
			},
		},
	}
	// On-demand data: 2.628G records × 1,024 B = 2,506.256 GiB.
	gib := 2628e6 * 1024 / (1 << 30)
	tests[4].items["Kinesis on-demand data in"] = gib * 0.08
	tests[4].items["Kinesis on-demand data out (Lambda's reads)"] = gib * 0.04
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			est := costJSON(t, tc.args...)
			if !near(est.RecordsPerBatch, tc.batch) {
				t.Errorf("records per batch = %v; want %v", est.RecordsPerBatch, tc.batch)
			}
			got := map[string]float64{}
			sum := 0.0
			for _, it := range est.Items {
				got[it.Name] = it.PerMonth
				sum += it.PerMonth
			}
			for name, want := range tc.items {
				g, ok := got[name]
				if !ok {
					t.Errorf("no line item %q in %v", name, est.Items)
					continue
				}
				if !near(g, want) {
					t.Errorf("%s = $%.9f/month; want $%.9f", name, g, want)
				}
			}
			if !near(est.TotalPerMonth, sum) {
				t.Errorf("total = %v; want the sum of the items %v", est.TotalPerMonth, sum)
			}
			if tc.total != 0 && !near(est.TotalPerMonth, tc.total) {
				t.Errorf("total = %.9f; want %.9f", est.TotalPerMonth, tc.total)
			}
			if tc.perMRec != 0 && !near(est.PerMillionRecords, tc.perMRec) {
				t.Errorf("per million records = %.9f; want %.9f", est.PerMillionRecords, tc.perMRec)
			}
		})
	}
}

// TestCostModelledDuration checks the modelled duration of a batch: CPU time per
// record (938 ns for gzip at 166 bytes) stretched by 1,769/256, plus 30 ms of
// PutObject and 1 ms of overhead; and that more memory only shortens the CPU part.
func TestCostModelledDuration(t *testing.T) {
	tests := []struct {
		args []string
		want float64
	}{
		{[]string{"--rate", "1000", "--record-bytes", "166"}, 1000*938e-6*1769/256 + 31},
		{[]string{"--rate", "1000", "--record-bytes", "166", "--memory", "3008"}, 1000*938e-6 + 31},
		{[]string{"--rate", "1000", "--record-bytes", "166", "--compression", "zstd"}, 1000*910e-6*1769/256 + 31},
		{[]string{"--rate", "1000", "--record-bytes", "166", "--recipe"}, 100*15681e-6*1769/256 + 31},
		// 709 bytes: the line is 709 + 377 = 1,086 bytes, twice the benchmark's 543.
		{[]string{"--rate", "100", "--record-bytes", "709", "--shards", "1"}, 500*2*938e-6*1769/256 + 31},
	}
	for _, tc := range tests {
		est := costJSON(t, tc.args...)
		if !est.DurationModelled || !near(est.DurationMs, tc.want) {
			t.Errorf("cost %v duration = %v ms (modelled %v); want %v ms, modelled", tc.args, est.DurationMs, est.DurationModelled, tc.want)
		}
	}
}

func TestCostWarnings(t *testing.T) {
	est := costJSON(t, "--rate", "5000", "--record-bytes", "166", "--shards", "2", "--duration-ms", "40")
	if len(est.Warnings) == 0 || !strings.Contains(est.Warnings[0], "5 needed") {
		t.Errorf("warnings = %q; want one saying 5 shards are needed", est.Warnings)
	}
	// 1,000 records/s on one shard, batches of 100 every 100 ms, each taking 200 ms.
	est = costJSON(t, "--rate", "1000", "--record-bytes", "166", "--batch-size", "100", "--duration-ms", "200", "--shards", "1")
	if len(est.Warnings) == 0 || !strings.Contains(est.Warnings[0], "falls behind") {
		t.Errorf("warnings = %q; want one saying the shard falls behind", est.Warnings)
	}
}

func TestCostHumanOutput(t *testing.T) {
	code, stdout, stderr := runCmd(t, false, "cost", "--template", testTemplate, "--batch-size", "1000", "--rate", "1000", "--record-bytes", "166", "--duration-ms", "40", "--shards", "1")
	if code != exitOK {
		t.Fatalf("exit = %d; stderr %s", code, stderr)
	}
	for _, want := range []string{"1 provisioned shard(s)", "batches of 1000 records", "S3 PUT (one object per batch)", "13.14", "total", "65.51", "0.0249"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("cost output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestCostBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"zero rate", []string{"--rate", "0"}, "--rate must be a number > 0 and at most 10000000"},
		{"zero record bytes", []string{"--record-bytes", "0"}, "--record-bytes must be between"},
		{"negative rate", []string{"--rate", "-1", "--record-bytes", "166"}, "--rate must be a number > 0"},
		{"huge record", []string{"--rate", "1", "--record-bytes", "20000000"}, "--record-bytes must be between"},
		{"batch size 0", []string{"--rate", "1", "--record-bytes", "1", "--batch-size", "0"}, "--batch-size must be between 1 and 10000"},
		{"batch size too big", []string{"--rate", "1", "--record-bytes", "1", "--batch-size", "10001"}, "--batch-size must be between 1 and 10000"},
		{"negative window", []string{"--rate", "1", "--record-bytes", "1", "--window", "-1"}, "--window must be between 0 and 300"},
		{"memory too small", []string{"--rate", "1", "--record-bytes", "1", "--memory", "64"}, "--memory must be between 128 and 10240"},
		{"zero duration", []string{"--rate", "1", "--record-bytes", "1", "--duration-ms", "0"}, "--duration-ms must be a number > 0"},
		{"NaN duration", []string{"--duration-ms", "NaN"}, "--duration-ms must be a number > 0 and at most 900000"},
		{"infinite duration", []string{"--duration-ms", "Inf"}, "--duration-ms must be a number > 0 and at most 900000"},
		{"huge duration", []string{"--duration-ms", "1e308"}, "--duration-ms must be a number > 0 and at most 900000"},
		{"duration over the Lambda timeout", []string{"--duration-ms", "900001"}, "--duration-ms must be a number > 0 and at most 900000"},
		{"NaN rate", []string{"--rate", "NaN"}, "--rate must be a number > 0 and at most 10000000"},
		{"infinite rate", []string{"--rate", "+Inf"}, "--rate must be a number > 0 and at most 10000000"},
		{"huge rate", []string{"--rate", "1e308"}, "--rate must be a number > 0 and at most 10000000"},
		{"NaN record bytes", []string{"--record-bytes", "NaN"}, "--record-bytes must be between"},
		{"NaN window", []string{"--window", "NaN"}, "--window must be between 0 and 300"},
		{"zero shards", []string{"--rate", "1", "--record-bytes", "1", "--shards", "0"}, "--shards must be at least 1"},
		{"shards and on-demand", []string{"--rate", "1", "--record-bytes", "1", "--shards", "2", "--on-demand"}, "mutually exclusive"},
		{"recipe and batch size", []string{"--rate", "1", "--record-bytes", "1", "--recipe", "--batch-size", "10"}, "--batch-size cannot be combined with --recipe"},
		{"recipe and aggregator", []string{"--rate", "1", "--record-bytes", "1", "--recipe", "--aggregator"}, "--aggregator cannot be combined with --recipe"},
		{"bad compression", []string{"--rate", "1", "--record-bytes", "1", "--compression", "lz4"}, `unknown --compression "lz4"`},
		{"zero devices", []string{"--rate", "1", "--record-bytes", "1", "--devices", "0"}, "--devices must be at least 1"},
		{"not a number", []string{"--rate", "fast", "--record-bytes", "1"}, `invalid value "fast" for flag -rate`},
		{"unknown flag", []string{"--rate", "1", "--record-bytes", "1", "--bogus"}, "flag provided but not defined: -bogus"},
		{"positional", []string{"--rate", "1", "--record-bytes", "1", "extra"}, `unexpected argument "extra"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, false, append([]string{"cost", "--template", testTemplate}, tc.args...)...)
			if code != exitUsage {
				t.Errorf("cost %v exit = %d; want %d", tc.args, code, exitUsage)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("cost %v stderr = %q; want it to contain %q", tc.args, stderr, tc.want)
			}
			if stdout != "" {
				t.Errorf("cost %v wrote to stdout: %q", tc.args, stdout)
			}
		})
	}
}

func TestCostHelp(t *testing.T) {
	code, _, stderr := runCmd(t, false, "cost", "--help")
	if code != exitOK || !strings.Contains(stderr, "--recipe") || !strings.Contains(stderr, "1,769 MB = 1 vCPU") {
		t.Errorf("cost --help exit = %d, output %q; want 0 and the flags and model", code, stderr)
	}
	// Package flag takes a back-quoted word of a usage string as the value's
	// name: "-record-bytes streamlake produce".
	for _, want := range []string{"-record-bytes float\n", "up to 10000000", "up to 900000",
		// TestCostTemplateErrors: a template that cannot be read exits 1.
		"1 when the template cannot be read"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("cost --help lacks %q:\n%s", want, stderr)
		}
	}
}

// TestCostLargestInputs: the largest values every flag accepts give finite
// figures, so --json can encode them (1e308 records/s made +Inf, which
// encoding/json refuses).
func TestCostLargestInputs(t *testing.T) {
	for _, extra := range [][]string{nil, {"--on-demand"}, {"--shards", "1"}, {"--recipe"}} {
		args := append([]string{"--rate", "10000000", "--record-bytes", "10485760", "--duration-ms", "900000", "--devices", "1000000000"}, extra...)
		if !slices.Contains(extra, "--recipe") {
			args = append(args, "--aggregator", "--memory", "10240")
		}
		est := costJSON(t, args...)
		if math.IsInf(est.TotalPerMonth, 0) || math.IsNaN(est.TotalPerMonth) || est.TotalPerMonth <= 0 {
			t.Errorf("cost %v: total %v; want a finite positive figure", args, est.TotalPerMonth)
		}
	}
}

// TestCostTemplateDefaults: without flags, cost prices what the template
// deploys (BatchSize 10000, 5 s window, 256 MB, gzip, ShardCount 2), at 1,000
// records/s of 166 bytes.
func TestCostTemplateDefaults(t *testing.T) {
	est := costJSON(t, "--batch-size", "10000") // the helper's default batch, given as the template's
	code, stdout, stderr := runCmd(t, false, "cost", "--template", testTemplate, "--json")
	if code != exitOK {
		t.Fatalf("cost --json exit %d: %s", code, stderr)
	}
	var got costEstimate
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	in := got.Input
	if in.Rate != 1000 || in.RecordBytes != 166 || in.BatchSize != 10000 || in.Window != 5 || in.MemoryMB != 256 || in.Compression != "gzip" ||
		in.OnDemand || in.TemplateShards != 2 || got.Shards != 2 {
		t.Errorf("cost without flags priced %+v with %d shards; want 1000/s of 166 B, batch 10000, window 5, 256 MB, gzip, the template's 2 shards", in, got.Shards)
	}
	// Computed by hand: per shard 500 records/s × 5 s = batches of 2,500, 0.4 a
	// second, 1,051,200 a month; 47.20 ms each (2,500 × 0.938 µs × 1769/256 + 31);
	// 2 shards × 730 h.
	want := map[string]float64{
		"Lambda requests":                             1051200 * 0.20 / 1e6,
		"Lambda duration":                             1051200 * 0.25 * 0.048 * 0.0000133334,
		"S3 PUT (one object per batch)":               1051200 * 0.005 / 1000,
		"S3 storage (one month of a month's objects)": 2.628e9 * 62.15 / 1e9 * 0.023,
		"Kinesis shard-hours":                         2 * 730 * 0.015,
		"Kinesis PUT payload units":                   2.628e9 * 0.014 / 1e6,
	}
	total := 0.0
	for _, it := range got.Items {
		w, ok := want[it.Name]
		if !ok || !near(it.PerMonth, w) {
			t.Errorf("%s = $%.9f; want $%.9f", it.Name, it.PerMonth, w)
		}
		total += w
	}
	if !near(got.TotalPerMonth, total) || math.Abs(got.TotalPerMonth-68.08) > 0.005 {
		t.Errorf("total = %.4f; want %.4f (the README's $68.08)", got.TotalPerMonth, total)
	}
	if est.Input.BatchSize != 10000 {
		t.Errorf("--batch-size 10000 gave %d", est.Input.BatchSize)
	}

	// More than the template's shards can take: priced with what the rate needs, and said.
	est = costJSON(t, "--batch-size", "10000", "--rate", "10000")
	if est.Shards != 10 || len(est.Notes) != 1 || !strings.Contains(est.Notes[0], "ShardCount 2 cannot take 10000 records/s") {
		t.Errorf("cost --rate 10000 = %d shards, notes %q; want 10 and a note on ShardCount", est.Shards, est.Notes)
	}
	// samconfig.toml's and the command line's parameter overrides apply as for sam deploy.
	est = costJSON(t, "--batch-size", "10000", "--config-env", "prod")
	if !est.Input.OnDemand {
		t.Errorf("cost --config-env prod: on-demand %v; want the prod environment's ON_DEMAND stream", est.Input.OnDemand)
	}
	est = costJSON(t, "--batch-size", "10000", "--parameter-overrides", "ProcessorMemorySize=1024 Compression=zstd MaximumBatchingWindowInSeconds=2 ShardCount=4")
	if in := est.Input; in.MemoryMB != 1024 || in.Compression != "zstd" || in.Window != 2 || est.Shards != 4 {
		t.Errorf("overrides gave %+v, %d shards; want 1024 MB, zstd, window 2, 4 shards", in, est.Shards)
	}
}

func TestCostTemplateErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no template", []string{"cost", "--template", "nope.yaml"}, exitFailure, "read the template's defaults: stat nope.yaml"},
		{"unknown environment", []string{"cost", "--template", testTemplate, "--config-env", "nope"}, exitFailure, `"nope"`},
		{"bad override", []string{"cost", "--template", testTemplate, "--parameter-overrides", "BatchSize=0"}, exitFailure, "BatchSize"},
		{"unknown parameter", []string{"cost", "--template", testTemplate, "--parameter-overrides", "Nope=1"}, exitFailure, "Nope"},
	}
	dir := t.TempDir()
	for name, tpl := range map[string]string{
		"nostream.yaml": strings.Replace(kinesisTemplate, "            Stream: !GetAtt Stream.Arn\n", "", 1),
		"nostart.yaml":  strings.Replace(kinesisTemplate, "            StartingPosition: LATEST\n", "", 1),
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(tpl), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests = append(tests, []struct {
		name string
		args []string
		code int
		want string
	}{
		{"Kinesis event without Stream", []string{"cost", "--template", filepath.Join(dir, "nostream.yaml")}, exitFailure, "function Fn event S: Stream is required"},
		{"Kinesis event without StartingPosition", []string{"cost", "--template", filepath.Join(dir, "nostart.yaml")}, exitFailure, "function Fn event S: StartingPosition is required"},
	}...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, false, tc.args...)
			if code != tc.code || stdout != "" || !strings.Contains(stderr, tc.want) {
				t.Errorf("%v = exit %d, stdout %q, stderr %q; want %d and %q", tc.args, code, stdout, stderr, tc.code, tc.want)
			}
		})
	}
	// Every setting given: the template is not needed.
	code, _, stderr := runCmd(t, false, "cost", "--template", "nope.yaml", "--batch-size", "100", "--window", "1", "--memory", "128", "--compression", "none", "--shards", "1")
	if code != exitOK {
		t.Errorf("cost with every setting given and no template = exit %d, %s; want 0", code, stderr)
	}
}
