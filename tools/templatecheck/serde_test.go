package templatecheck

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/samtemplate"
)

// openXSerDe is the JSON SerDe of the template's Athena tables.
const openXSerDe = "org.openx.data.jsonserde.JsonSerDe"

// jsonTableProblems checks that the Glue tables read with the OpenX JSON SerDe
// read every line the processor writes instead of failing the query. The
// processor stores a JSON payload as it was sent, and JSON allows a member name
// twice, or two names that differ only in case ({"Url":…,"url":…}, HTTP
// headers). The OpenX SerDe lower-cases names (case.insensitive, on by
// default) and rejects a line with a name twice: "HIVE_CURSOR_ERROR: Row is not
// a valid JSON Object - JSONException: Duplicate key" fails every query that
// reads the object (https://docs.aws.amazon.com/athena/latest/ug/openx-json-serde.html;
// JSONObject.putOnce in github.com/rcongiu/Hive-JSON-Serde). ignore.malformed.json
// reads such a line as a row of NULLs; use.null.for.invalid.data reads a value
// that does not fit its column as NULL.
func jsonTableProblems(doc map[string]any) []string {
	resources, _ := doc["Resources"].(map[string]any)
	var names []string
	for name := range resources {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []string
	for _, name := range names {
		r, _ := resources[name].(map[string]any)
		if r["Type"] != "AWS::Glue::Table" {
			continue
		}
		props, _ := r["Properties"].(map[string]any)
		if lib, _ := samtemplate.Lookup(props, "TableInput.StorageDescriptor.SerdeInfo.SerializationLibrary"); lib != openXSerDe {
			continue
		}
		params, _ := samtemplate.Lookup(props, "TableInput.StorageDescriptor.SerdeInfo.Parameters")
		m, _ := params.(map[string]any)
		for _, p := range []string{"ignore.malformed.json", "use.null.for.invalid.data"} {
			v, ok := m[p]
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("%s: SerDe parameter %s is not set; want TRUE", name, p))
			case !strings.EqualFold(fmt.Sprint(v), "true"):
				out = append(out, fmt.Sprintf("%s: SerDe parameter %s is %v; want TRUE", name, p, v))
			}
		}
	}
	return out
}

func TestJSONTablesReadEveryLine(t *testing.T) {
	doc := loadDoc(t, repoTemplate)
	for _, p := range jsonTableProblems(doc) {
		t.Error(p)
	}
	tables := 0
	for _, r := range doc["Resources"].(map[string]any) {
		if lib, _ := samtemplate.Lookup(r.(map[string]any), "Properties.TableInput.StorageDescriptor.SerdeInfo.SerializationLibrary"); lib == openXSerDe {
			tables++
		}
	}
	if tables != 2 {
		t.Errorf("%d tables read with %s; want 2 (sensor_readings, quarantined_records)", tables, openXSerDe)
	}
}

func TestJSONTableProblems(t *testing.T) {
	src := `Resources:
  Readings:
    Type: AWS::Glue::Table
    Properties:
      TableInput:
        StorageDescriptor:
          SerdeInfo:
            SerializationLibrary: org.openx.data.jsonserde.JsonSerDe
            Parameters: {use.null.for.invalid.data: "TRUE"}
`
	doc, _, err := samtemplate.ParseDocument([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := jsonTableProblems(doc)
	if len(got) != 1 || !strings.Contains(got[0], "ignore.malformed.json") {
		t.Errorf("jsonTableProblems(no ignore.malformed.json) = %q; want one problem naming it", got)
	}
}
