package metrics

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestValidateSpecExample(t *testing.T) {
	line, err := os.ReadFile("testdata/spec-example.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := Validate(line, time.Date(2024, 11, 22, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatalf("Validate(spec example) = %v", err)
	}
	if v, _ := ev.Value("RecordsWritten"); v != 500 || len(ev.Values["BatchLatency"]) != 3 {
		t.Errorf("Validate(spec example) values = %v", ev.Values)
	}
	if ev.Directives[0].Metrics[1].StorageResolution != 60 {
		t.Errorf("StorageResolution = %d; want 60", ev.Directives[0].Metrics[1].StorageResolution)
	}
}

// line builds an EMF line from a valid template with one substitution.
func line(old, new string) string {
	const valid = `{"_aws":{"Timestamp":1795269600000,"CloudWatchMetrics":[{"Namespace":"streamlake","Dimensions":[["Service"],["Service","FunctionName"]],"Metrics":[{"Name":"RecordsWritten","Unit":"Count"}]}]},"Service":"s","FunctionName":"f","RecordsWritten":5}`
	if old == "" {
		return valid
	}
	if !strings.Contains(valid, old) {
		panic("test line has no " + old)
	}
	return strings.Replace(valid, old, new, 1)
}

// withRoot adds the root member key (a dimension) with the value "v" to an EMF line.
func withRoot(line, key string) string {
	return strings.Replace(line, `"Service":"s"`, `"`+key+`":"v","Service":"s"`, 1)
}

// withMetrics defines n metrics (RecordsWritten and M1 to Mn-1) in the line's
// directive, each with a root member.
func withMetrics(n int) string {
	defs, vals := `{"Name":"RecordsWritten","Unit":"Count"}`, `"RecordsWritten":5`
	for i := 1; i < n; i++ {
		defs += `,{"Name":"M` + strconv.Itoa(i) + `"}`
		vals += `,"M` + strconv.Itoa(i) + `":1`
	}
	return strings.Replace(line(`{"Name":"RecordsWritten","Unit":"Count"}`, defs), `"RecordsWritten":5`, vals, 1)
}

func TestValidate(t *testing.T) {
	now := time.UnixMilli(1795269600000)
	tests := []struct {
		name, line, want string
	}{
		{"valid", line("", ""), ""},
		{"valid with newline", line("", "") + "\n", ""},
		{"valid array", line(`"RecordsWritten":5`, `"RecordsWritten":[1,2.5,-3e2]`), ""},
		{"valid no unit", line(`,"Unit":"Count"`, ``), ""},
		{"valid high resolution", line(`"Unit":"Count"`, `"Unit":"Count","StorageResolution":1`), ""},
		{"valid empty dimension set", line(`[["Service"],["Service","FunctionName"]]`, `[[]]`), ""},
		{"leading text", "INFO " + line("", ""), "not exactly one JSON object"},
		{"trailing text", line("", "") + " x", "not exactly one JSON object"},
		{"two objects", line("", "") + line("", ""), "data after"},
		{"not JSON", `{"_aws":}`, "invalid character"},
		{"no _aws", `{"a":1}`, `no "_aws"`},
		{"duplicate root member", line(`"Service":"s"`, `"Service":"s","Service":"t"`), "appears twice"},
		{"_aws not object", `{"_aws":[]}`, "not a JSON object"},
		{"extra _aws member", line(`"Timestamp"`, `"Extra":1,"Timestamp"`), `"Extra"`},
		{"no timestamp", line(`"Timestamp":1795269600000,`, ``), "Timestamp is missing"},
		{"timestamp string", line(`1795269600000`, `"1795269600000"`), "not a number"},
		{"timestamp fraction", line(`1795269600000`, `1795269600000.5`), "integer of milliseconds"},
		{"timestamp in seconds", line(`1795269600000`, `1795269600`), "within 14 days"},
		{"timestamp in the future", line(`1795269600000`, `1795283000000`), "within 14 days"},
		{"no CloudWatchMetrics", line(`,"CloudWatchMetrics":[{"Namespace":"streamlake","Dimensions":[["Service"],["Service","FunctionName"]],"Metrics":[{"Name":"RecordsWritten","Unit":"Count"}]}]`, ``), "CloudWatchMetrics is missing"},
		{"empty CloudWatchMetrics", `{"_aws":{"Timestamp":1795269600000,"CloudWatchMetrics":[]}}`, "is empty"},
		{"bad namespace", line(`"Namespace":"streamlake"`, `"Namespace":"stream lake"`), "namespace"},
		{"AWS namespace", line(`"Namespace":"streamlake"`, `"Namespace":"AWS/Lambda"`), "reserved"},
		{"namespace starting with a colon", line(`"Namespace":"streamlake"`, `"Namespace":":streamlake"`), "starts with ':'"},
		{"valid namespace with a colon", line(`"Namespace":"streamlake"`, `"Namespace":"acme:iot"`), ""},
		{"long namespace", line(`"Namespace":"streamlake"`, `"Namespace":"`+strings.Repeat("n", 257)+`"`), "namespace"},
		{"no namespace", line(`"Namespace":"streamlake",`, ``), "Namespace member is missing"},
		{"extra directive member", line(`"Namespace"`, `"LogGroup":"x","Namespace"`), `"LogGroup"`},
		{"no dimensions", line(`"Dimensions":[["Service"],["Service","FunctionName"]],`, ``), "Dimensions member is missing"},
		{"dimensions not nested", line(`[["Service"],["Service","FunctionName"]]`, `["Service"]`), "array of arrays"},
		{"dimension not root", line(`["Service","FunctionName"]`, `["Service","Region"]`), `"Region" is not a root member`},
		{"dimension value number", line(`"Service":"s"`, `"Service":7`), "not a string"},
		{"dimension value empty", line(`"Service":"s"`, `"Service":""`), "1 to 1024"},
		{"dimension value not ASCII", line(`"Service":"s"`, `"Service":"Süd"`), "ASCII"},
		{"dimension value blank", line(`"Service":"s"`, `"Service":" "`), "other than whitespace"},
		{"dimension value with a control character", line(`"Service":"s"`, `"Service":"a\u0007b"`), "control characters"},
		{"dimension value with DEL", line(`"Service":"s"`, `"Service":"a\u007fb"`), "control characters"},
		{"valid dimension value with spaces", line(`"Service":"s"`, `"Service":"plant 7"`), ""},
		{"dimension name starting with a colon", withRoot(line(`["Service","FunctionName"]]`, `["Service","FunctionName"],[":Region"]]`), ":Region"), "starts with ':'"},
		{"dimension name not ASCII", withRoot(line(`["Service","FunctionName"]]`, `["Service","FunctionName"],["Région"]]`), "Région"), "ASCII"},
		{"long dimension name", withRoot(line(`["Service","FunctionName"]]`, `["Service","FunctionName"],["`+strings.Repeat("d", 256)+`"]]`), strings.Repeat("d", 256)), "1 to 255"},
		{"dimension twice", line(`["Service","FunctionName"]`, `["Service","Service"]`), "twice"},
		{"31 dimensions", line(`[["Service"],`, `[[`+strings.Repeat(`"Service",`, 30)+`"Service"],`), "31 keys"},
		{"no metrics", line(`[{"Name":"RecordsWritten","Unit":"Count"}]`, `[]`), "0 definitions"},
		{"valid 100 metrics", withMetrics(100), ""},
		{"101 metrics", withMetrics(101), "101 definitions"},
		{"metric without name", line(`"Name":"RecordsWritten",`, ``), "Name member is missing"},
		{"metric not root", line(`"Name":"RecordsWritten"`, `"Name":"RecordsRead"`), `"RecordsRead" is not a root member`},
		{"metric defined twice", line(`{"Name":"RecordsWritten","Unit":"Count"}`, `{"Name":"RecordsWritten"},{"Name":"RecordsWritten"}`), "defined twice"},
		{"bad unit", line(`"Unit":"Count"`, `"Unit":"Records"`), "not a CloudWatch unit"},
		{"unit case", line(`"Unit":"Count"`, `"Unit":"count"`), "not a CloudWatch unit"},
		{"bad resolution", line(`"Unit":"Count"`, `"Unit":"Count","StorageResolution":5`), "want 1 or 60"},
		{"extra definition member", line(`"Unit":"Count"`, `"Unit":"Count","Dims":1`), `"Dims"`},
		{"value string", line(`"RecordsWritten":5`, `"RecordsWritten":"5"`), "not a number"},
		{"value null", line(`"RecordsWritten":5`, `"RecordsWritten":null`), "not a number"},
		{"value bool", line(`"RecordsWritten":5`, `"RecordsWritten":true`), "not a number"},
		{"empty array", line(`"RecordsWritten":5`, `"RecordsWritten":[]`), "0 values"},
		{"array of strings", line(`"RecordsWritten":5`, `"RecordsWritten":[1,"2"]`), "not a number"},
		{"101 values", line(`"RecordsWritten":5`, `"RecordsWritten":[`+strings.Repeat("1,", 100)+`1]`), "101 values"},
		{"value too large", line(`"RecordsWritten":5`, `"RecordsWritten":1e999`), "out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Validate([]byte(tc.line), now)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate(%s) = %v; want nil", tc.line, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate(%s) = %v; want an error containing %q", tc.line, err, tc.want)
			}
		})
	}
}

func TestIsEMF(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{line("", ""), true},
		{`{"_aws":{}}`, true},
		{`{"level":"INFO","msg":"store batch","requestId":"r"}`, false},
		{`START RequestId: r Version: $LATEST`, false},
		{``, false},
		{`[{"_aws":{}}]`, false},
	}
	for _, tc := range tests {
		if got := IsEMF([]byte(tc.line)); got != tc.want {
			t.Errorf("IsEMF(%q) = %v; want %v", tc.line, got, tc.want)
		}
	}
}

func FuzzValidate(f *testing.F) {
	f.Add([]byte(line("", "")), int64(1795269600000))
	f.Add([]byte(`{"_aws":{"Timestamp":0,"CloudWatchMetrics":[{"Namespace":"a","Dimensions":[[]],"Metrics":[{"Name":"x"}]}]},"x":[1]}`), int64(0))
	f.Fuzz(func(t *testing.T, line []byte, nowMS int64) {
		ev, err := Validate(line, time.UnixMilli(nowMS))
		if err == nil && (ev == nil || len(ev.Directives) == 0) {
			t.Fatalf("Validate(%q) accepted a line without directives", line)
		}
	})
}
