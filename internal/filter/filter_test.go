package filter

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// sensor is a typical record of the project's producer.
const sensor = `{"device_id":"sensor-0007","temperature":21.43,"humidity":48.2,"timestamp":"2026-11-21T13:40:05Z","location":{"lat":52.52,"lon":13.405},"battery_level":87}`

// matchCase is one pattern and one record with the expected outcome.
type matchCase struct {
	name    string
	pattern string
	data    string
	want    bool
}

// conformance lists, per operator, matching and non-matching records. Cases
// marked DG come from the operator table of the Lambda developer guide
// (invocation-eventfiltering) and the Kinesis filtering page; EB from the
// EventBridge content-filtering page.
var conformance = []matchCase{
	// Null (DG: "UserID": [ null ]).
	{"null/DG match", `{"data":{"UserID":[null]}}`, `{"UserID":null}`, true},
	{"null/string null", `{"data":{"UserID":[null]}}`, `{"UserID":"null"}`, false},
	{"null/missing", `{"data":{"UserID":[null]}}`, `{}`, false},
	{"null/empty string", `{"data":{"UserID":[null]}}`, `{"UserID":""}`, false},
	{"null/in array", `{"data":{"UserID":[null]}}`, `{"UserID":["a",null]}`, true},

	// Empty (DG: "LastName": [""]).
	{"empty/DG match", `{"data":{"LastName":[""]}}`, `{"LastName":""}`, true},
	{"empty/non-empty", `{"data":{"LastName":[""]}}`, `{"LastName":"Doe"}`, false},
	{"empty/null", `{"data":{"LastName":[""]}}`, `{"LastName":null}`, false},
	{"empty/missing", `{"data":{"LastName":[""]}}`, `{"FirstName":""}`, false},

	// Equals (DG: "Name": [ "Alice" ]).
	{"equals/DG match", `{"data":{"Name":["Alice"]}}`, `{"Name":"Alice"}`, true},
	{"equals/case differs", `{"data":{"Name":["Alice"]}}`, `{"Name":"alice"}`, false},
	{"equals/trailing space", `{"data":{"Name":["Alice"]}}`, `{"Name":"Alice "}`, false},
	{"equals/missing", `{"data":{"Name":["Alice"]}}`, `{"name":"Alice"}`, false},
	{"equals/event array", `{"data":{"Name":["Alice"]}}`, `{"Name":["Bob","Alice"]}`, true},
	{"equals/event array no hit", `{"data":{"Name":["Alice"]}}`, `{"Name":["Bob","Carol"]}`, false},
	{"equals/string is not number", `{"data":{"n":["5"]}}`, `{"n":5}`, false},
	{"equals/escaped event string", `{"data":{"Name":["café \"x\""]}}`, `{"Name":"caf\u00e9 \"x\""}`, true},
	{"equals/escaped key", `{"data":{"Name":["Alice"]}}`, `{"N\u0061me":"Alice"}`, true},
	{"equals/surrogate pair", `{"data":{"e":["😀"]}}`, `{"e":"\ud83d\ude00"}`, true},
	{"equals/lone surrogate is U+FFFD", `{"data":{"e":["\ufffd"]}}`, `{"e":"\ud83d"}`, true},
	{"equals/true", `{"data":{"ok":[true]}}`, `{"ok":true}`, true},
	{"equals/true vs string", `{"data":{"ok":[true]}}`, `{"ok":"true"}`, false},
	{"equals/false", `{"data":{"ok":[false]}}`, `{"ok":false}`, true},
	{"equals/false vs true", `{"data":{"ok":[false]}}`, `{"ok":true}`, false},

	// And (DG: "Location": [ "New York" ], "Day": ["Monday"]).
	{"and/both", `{"data":{"Location":["New York"],"Day":["Monday"]}}`, `{"Location":"New York","Day":"Monday"}`, true},
	{"and/one", `{"data":{"Location":["New York"],"Day":["Monday"]}}`, `{"Location":"New York","Day":"Tuesday"}`, false},
	{"and/one missing", `{"data":{"Location":["New York"],"Day":["Monday"]}}`, `{"Location":"New York"}`, false},

	// Or (DG: "PaymentType": [ "Credit", "Debit"]).
	{"or/second", `{"data":{"PaymentType":["Credit","Debit"]}}`, `{"PaymentType":"Debit"}`, true},
	{"or/none", `{"data":{"PaymentType":["Credit","Debit"]}}`, `{"PaymentType":"Cash"}`, false},

	// Not (DG: "Weather": [ { "anything-but": [ "Raining" ] } ]).
	{"anything-but/DG other", `{"data":{"Weather":[{"anything-but":["Raining"]}]}}`, `{"Weather":"Sunny"}`, true},
	{"anything-but/DG excluded", `{"data":{"Weather":[{"anything-but":["Raining"]}]}}`, `{"Weather":"Raining"}`, false},
	{"anything-but/missing", `{"data":{"Weather":[{"anything-but":["Raining"]}]}}`, `{}`, false},
	{"anything-but/null", `{"data":{"Weather":[{"anything-but":["Raining"]}]}}`, `{"Weather":null}`, true},
	{"anything-but/number", `{"data":{"Weather":[{"anything-but":["Raining"]}]}}`, `{"Weather":5}`, true},
	{"anything-but/array with other", `{"data":{"Weather":[{"anything-but":["Raining"]}]}}`, `{"Weather":["Raining","Sunny"]}`, true},
	{"anything-but/array only excluded", `{"data":{"Weather":[{"anything-but":["Raining"]}]}}`, `{"Weather":["Raining"]}`, false},
	{"anything-but/object value", `{"data":{"Weather":[{"anything-but":["Raining"]}]}}`, `{"Weather":{"now":"Sunny"}}`, false},
	{"anything-but/EB single string", `{"data":{"state":[{"anything-but":"initializing"}]}}`, `{"state":"running"}`, true},
	{"anything-but/EB single string excluded", `{"data":{"state":[{"anything-but":"initializing"}]}}`, `{"state":"initializing"}`, false},
	{"anything-but/EB list", `{"data":{"state":[{"anything-but":["stopped","overloaded"]}]}}`, `{"state":"overloaded"}`, false},
	{"anything-but/EB single number", `{"data":{"x-limit":[{"anything-but":123}]}}`, `{"x-limit":124}`, true},
	{"anything-but/EB single number excluded", `{"data":{"x-limit":[{"anything-but":123}]}}`, `{"x-limit":123}`, false},
	{"anything-but/number by value", `{"data":{"x-limit":[{"anything-but":123}]}}`, `{"x-limit":1.23e2}`, false},
	{"anything-but/number vs string", `{"data":{"x-limit":[{"anything-but":123}]}}`, `{"x-limit":"123"}`, true},
	{"anything-but/EB number list", `{"data":{"x-limit":[{"anything-but":[100,200,300]}]}}`, `{"x-limit":200}`, false},
	{"anything-but/EB number list other", `{"data":{"x-limit":[{"anything-but":[100,200,300]}]}}`, `{"x-limit":250}`, true},
	{"anything-but/out of range number", `{"data":{"x":[{"anything-but":[5]}]}}`, `{"x":1e400}`, true},
	{"anything-but/prefix EB", `{"data":{"state":[{"anything-but":{"prefix":"init"}}]}}`, `{"state":"running"}`, true},
	{"anything-but/prefix excluded", `{"data":{"state":[{"anything-but":{"prefix":"init"}}]}}`, `{"state":"initializing"}`, false},
	{"anything-but/prefix DG region", `{"data":{"Region":[{"anything-but":{"prefix":"us-"}}]}}`, `{"Region":"eu-west-1"}`, true},
	{"anything-but/prefix number", `{"data":{"Region":[{"anything-but":{"prefix":"us-"}}]}}`, `{"Region":5}`, true},
	// A number whose text starts with the prefix: the prefix applies to strings only.
	{"anything-but/prefix number with the prefix's digits", `{"data":{"n":[{"anything-but":{"prefix":"1"}}]}}`, `{"n":12}`, true},
	{"anything-but/suffix number with the suffix's digits", `{"data":{"n":[{"anything-but":{"suffix":"2"}}]}}`, `{"n":12}`, true},
	{"anything-but/suffix", `{"data":{"FileName":[{"anything-but":{"suffix":".png"}}]}}`, `{"FileName":"a.jpg"}`, true},
	{"anything-but/suffix excluded", `{"data":{"FileName":[{"anything-but":{"suffix":".png"}}]}}`, `{"FileName":"a.png"}`, false},
	// Lists of prefixes and suffixes, as AWS recorded them (EventBridge's
	// TestEventPattern, LocalStack tests/aws/services/events/event_pattern_templates/
	// content_anything_prefix_list*.json5 and content_anything_suffix_list*.json5).
	{"anything-but/prefix list", `{"data":{"state":[{"anything-but":{"prefix":["init","test"]}}]}}`, `{"state":"post-init"}`, true},
	{"anything-but/prefix list excluded", `{"data":{"state":[{"anything-but":{"prefix":["init","post"]}}]}}`, `{"state":"post-init"}`, false},
	{"anything-but/prefix list number", `{"data":{"state":[{"anything-but":{"prefix":["init","test"]}}]}}`, `{"state":12}`, true},
	{"anything-but/prefix list null", `{"data":{"state":[{"anything-but":{"prefix":["init","test"]}}]}}`, `{"state":null}`, true},
	{"anything-but/prefix list missing", `{"data":{"state":[{"anything-but":{"prefix":["init","post"]}}]}}`, `{}`, false},
	{"anything-but/suffix list", `{"data":{"FileName":[{"anything-but":{"suffix":[".txt",".jpg"]}}]}}`, `{"FileName":"file.txt.bak"}`, true},
	{"anything-but/suffix list excluded", `{"data":{"FileName":[{"anything-but":{"suffix":[".txt",".jpg"]}}]}}`, `{"FileName":"file.jpg"}`, false},
	{"anything-but/suffix list null", `{"data":{"FileName":[{"anything-but":{"suffix":[".txt",".jpg"]}}]}}`, `{"FileName":null}`, true},
	{"anything-but/suffix list missing", `{"data":{"FileName":[{"anything-but":{"suffix":[".txt",".jpg"]}}]}}`, `{}`, false},
	{"anything-but/ignore case excluded", `{"data":{"state":[{"anything-but":{"equals-ignore-case":"initializing"}}]}}`, `{"state":"INITIALIZING"}`, false},
	{"anything-but/ignore case other", `{"data":{"state":[{"anything-but":{"equals-ignore-case":"initializing"}}]}}`, `{"state":"running"}`, true},
	{"anything-but/ignore case list", `{"data":{"state":[{"anything-but":{"equals-ignore-case":["a","B"]}}]}}`, `{"state":"b"}`, false},

	// Numeric (DG: "Price": [ { "numeric": [ "=", 100 ] } ] and [ ">", 10, "<=", 20 ]).
	{"numeric =/DG", `{"data":{"Price":[{"numeric":["=",100]}]}}`, `{"Price":100}`, true},
	{"numeric =/decimal value", `{"data":{"Price":[{"numeric":["=",100]}]}}`, `{"Price":100.0}`, true},
	{"numeric =/exponent", `{"data":{"Price":[{"numeric":["=",100]}]}}`, `{"Price":1e2}`, true},
	{"numeric =/string", `{"data":{"Price":[{"numeric":["=",100]}]}}`, `{"Price":"100"}`, false},
	{"numeric =/other", `{"data":{"Price":[{"numeric":["=",100]}]}}`, `{"Price":101}`, false},
	{"numeric range/DG lower open", `{"data":{"Price":[{"numeric":[">",10,"<=",20]}]}}`, `{"Price":10}`, false},
	{"numeric range/inside", `{"data":{"Price":[{"numeric":[">",10,"<=",20]}]}}`, `{"Price":10.5}`, true},
	{"numeric range/upper closed", `{"data":{"Price":[{"numeric":[">",10,"<=",20]}]}}`, `{"Price":20}`, true},
	{"numeric range/above", `{"data":{"Price":[{"numeric":[">",10,"<=",20]}]}}`, `{"Price":20.01}`, false},
	{"numeric range/>= <", `{"data":{"n":[{"numeric":[">=",0,"<",1]}]}}`, `{"n":0}`, true},
	{"numeric range/>= < top", `{"data":{"n":[{"numeric":[">=",0,"<",1]}]}}`, `{"n":1}`, false},
	{"numeric range/>= < below", `{"data":{"n":[{"numeric":[">=",0,"<",1]}]}}`, `{"n":-0.5}`, false},
	{"numeric >=/below", `{"data":{"n":[{"numeric":[">=",10]}]}}`, `{"n":9.99}`, false},
	{"numeric </negative", `{"data":{"n":[{"numeric":["<",0]}]}}`, `{"n":-0.5}`, true},
	{"numeric <=/equal", `{"data":{"n":[{"numeric":["<=",-5e-1]}]}}`, `{"n":-0.5}`, true},
	{"numeric >/array element", `{"data":{"n":[{"numeric":[">",10]}]}}`, `{"n":[1,2,30]}`, true},
	{"numeric >/bool", `{"data":{"n":[{"numeric":[">",0]}]}}`, `{"n":true}`, false},
	{"numeric >/DG temperature", `{"data":{"Temperature":[{"numeric":[">",50,"<=",60]}]}}`, `{"Temperature":55,"City":"Seattle"}`, true},
	{"numeric >/DG temperature string", `{"data":{"Temperature":[{"numeric":[">",50,"<=",60]}]}}`, `{"Temperature":"55"}`, false},
	{"numeric/beyond float64 >", `{"data":{"n":[{"numeric":[">",0]}]}}`, `{"n":1e400}`, false},
	{"numeric/beyond float64 <", `{"data":{"n":[{"numeric":["<",0]}]}}`, `{"n":-1e400}`, false},
	{"numeric/underflow is zero", `{"data":{"n":[{"numeric":["=",0]}]}}`, `{"n":1e-400}`, true},
	{"numeric/long number", `{"data":{"n":[{"numeric":[">",1]}]}}`, `{"n":1.00000000000000000000000000000000000001}`, false},

	// 300 vs 300.0: equality by representation, numeric by value (DG note).
	{"300/equal text", `{"data":{"n":[300]}}`, `{"n":300}`, true},
	{"300/300.0 not equal", `{"data":{"n":[300]}}`, `{"n":300.0}`, false},
	{"300/3.0e2 not equal", `{"data":{"n":[300]}}`, `{"n":3.0e2}`, false},
	{"300/pattern 300.0", `{"data":{"n":[300.0]}}`, `{"n":300.0}`, true},
	{"300/pattern 300.0 vs 300", `{"data":{"n":[300.0]}}`, `{"n":300}`, false},
	{"300/numeric 300.0", `{"data":{"n":[{"numeric":["=",300]}]}}`, `{"n":300.0}`, true},
	{"300/numeric 3.0e2", `{"data":{"n":[{"numeric":["=",300]}]}}`, `{"n":3.0e2}`, true},
	{"300/string", `{"data":{"n":[300]}}`, `{"n":"300"}`, false},
	{"beyond float64/equal text", `{"data":{"n":[1e400]}}`, `{"n":1e400}`, true},

	// Exists (DG: "ProductName": [ { "exists": true } ] / false).
	{"exists true/DG present", `{"data":{"ProductName":[{"exists":true}]}}`, `{"ProductName":"x"}`, true},
	{"exists true/missing", `{"data":{"ProductName":[{"exists":true}]}}`, `{"Product":"x"}`, false},
	{"exists true/null counts", `{"data":{"ProductName":[{"exists":true}]}}`, `{"ProductName":null}`, true},
	{"exists true/object is not a leaf", `{"data":{"ProductName":[{"exists":true}]}}`, `{"ProductName":{"en":"x"}}`, false},
	{"exists true/empty array", `{"data":{"ProductName":[{"exists":true}]}}`, `{"ProductName":[]}`, false},
	{"exists false/DG missing", `{"data":{"ProductName":[{"exists":false}]}}`, `{"Product":"x"}`, true},
	{"exists false/present", `{"data":{"ProductName":[{"exists":false}]}}`, `{"ProductName":"x"}`, false},
	{"exists false/null present", `{"data":{"ProductName":[{"exists":false}]}}`, `{"ProductName":null}`, false},
	{"exists false/EB object not a leaf", `{"data":{"detail":{"c-count":[{"exists":false}]}}}`, `{"detail":{"c-count":{"c1":100}}}`, true},
	{"exists false/empty array", `{"data":{"ProductName":[{"exists":false}]}}`, `{"ProductName":[]}`, true},
	{"exists false/parent missing", `{"data":{"a":{"b":[{"exists":false}]}}}`, `{"x":1}`, true},
	{"exists false/parent scalar", `{"data":{"a":{"b":[{"exists":false}]}}}`, `{"a":5}`, true},
	{"exists false/other field must match", `{"data":{"a":[{"exists":false}],"b":["x"]}}`, `{"b":"y"}`, false},
	{"exists or value/absent", `{"data":{"a":["x",{"exists":false}]}}`, `{}`, true},
	{"exists or value/value", `{"data":{"a":["x",{"exists":false}]}}`, `{"a":"x"}`, true},
	{"exists or value/other", `{"data":{"a":["x",{"exists":false}]}}`, `{"a":"y"}`, false},

	// Begins with (DG: "Region": [ {"prefix": "us-" } ]).
	{"prefix/DG match", `{"data":{"Region":[{"prefix":"us-"}]}}`, `{"Region":"us-east-1"}`, true},
	{"prefix/other", `{"data":{"Region":[{"prefix":"us-"}]}}`, `{"Region":"eu-west-1"}`, false},
	{"prefix/case", `{"data":{"Region":[{"prefix":"us-"}]}}`, `{"Region":"US-east-1"}`, false},
	{"prefix/number", `{"data":{"n":[{"prefix":"1"}]}}`, `{"n":12}`, false},
	{"prefix/empty prefix matches strings", `{"data":{"n":[{"prefix":""}]}}`, `{"n":"anything"}`, true},
	{"prefix/EB time", `{"data":{"time":[{"prefix":"2017-10-02"}]}}`, `{"time":"2017-10-02T18:43:48Z"}`, true},
	{"prefix/escaped", `{"data":{"p":[{"prefix":"a/b"}]}}`, `{"p":"a\/bc"}`, true},
	{"prefix ignore case/EB", `{"data":{"service":[{"prefix":{"equals-ignore-case":"eventb"}}]}}`, `{"service":"EventBridge"}`, true},
	{"prefix ignore case/other", `{"data":{"service":[{"prefix":{"equals-ignore-case":"eventb"}}]}}`, `{"service":"Events"}`, false},
	{"prefix ignore case/shorter", `{"data":{"service":[{"prefix":{"equals-ignore-case":"eventb"}}]}}`, `{"service":"EVENT"}`, false},

	// Ends with.
	{"suffix/match", `{"data":{"FileName":[{"suffix":".png"}]}}`, `{"FileName":"image.png"}`, true},
	{"suffix/other", `{"data":{"FileName":[{"suffix":".png"}]}}`, `{"FileName":"image.PNG"}`, false},
	{"suffix ignore case/EB", `{"data":{"service":[{"suffix":{"equals-ignore-case":"tBridge"}}]}}`, `{"service":"EVENTBRIDGE"}`, true},
	{"suffix ignore case/short", `{"data":{"service":[{"suffix":{"equals-ignore-case":"tBridge"}}]}}`, `{"service":"idge"}`, false},
	{"suffix ignore case/unicode", `{"data":{"s":[{"suffix":{"equals-ignore-case":"ÄRGER"}}]}}`, `{"s":"großer ärger"}`, true},

	// Equals ignore case.
	{"equals-ignore-case/match", `{"data":{"Name":[{"equals-ignore-case":"alice"}]}}`, `{"Name":"ALICE"}`, true},
	{"equals-ignore-case/longer", `{"data":{"Name":[{"equals-ignore-case":"alice"}]}}`, `{"Name":"Alicia"}`, false},
	{"equals-ignore-case/shorter", `{"data":{"Name":[{"equals-ignore-case":"alice"}]}}`, `{"Name":"ALI"}`, false},
	{"equals-ignore-case/unicode", `{"data":{"Name":[{"equals-ignore-case":"ärger"}]}}`, `{"Name":"ÄRGER"}`, true},
	{"equals-ignore-case/number", `{"data":{"Name":[{"equals-ignore-case":"1"}]}}`, `{"Name":1}`, false},

	// Nested objects.
	{"nested/DG Kinesis order", `{"data":{"order":{"type":["buy"]}}}`, `{"record":12345,"order":{"type":"buy","stock":"ANYCO","quantity":1000}}`, true},
	{"nested/DG Kinesis order sell", `{"data":{"order":{"type":["buy"]}}}`, `{"record":12345,"order":{"type":"sell","stock":"ANYCO","quantity":1000}}`, false},
	{"nested/sensor location", `{"data":{"location":{"lat":[{"numeric":[">",52.5,"<",52.6]}]}}}`, sensor, true},
	{"nested/sensor several fields", `{"data":{"device_id":[{"prefix":"sensor-"}],"battery_level":[{"numeric":[">=",80]}],"location":{"lon":[13.405]}}}`, sensor, true},
	{"nested/deep path", `{"data":{"a":{"b":{"c":{"d":["x"]}}}}}`, `{"a":{"b":{"c":{"d":"x"}}}}`, true},
	{"nested/deep path other", `{"data":{"a":{"b":{"c":{"d":["x"]}}}}}`, `{"a":{"b":{"c":{"e":"x"}}}}`, false},
	{"nested/object expected, scalar found", `{"data":{"a":{"b":["x"]}}}`, `{"a":"x"}`, false},
	{"nested/leaf expected, object found", `{"data":{"a":["x"]}}`, `{"a":{"b":"x"}}`, false},
	{"nested/dotted key is not a path", `{"data":{"a":{"b":["x"]}}}`, `{"a.b":"x"}`, false},

	// Arrays in events.
	{"array/DG intersection", `{"data":{"tags":["b","z"]}}`, `{"tags":["a","b"]}`, true},
	{"array/nested arrays flatten", `{"data":{"tags":["y"]}}`, `{"tags":[["x"],["y"]]}`, true},
	{"array/of objects", `{"data":{"items":{"sku":["B"]}}}`, `{"items":[{"sku":"A"},{"sku":"B"}]}`, true},
	{"array/of objects none", `{"data":{"items":{"sku":["C"]}}}`, `{"items":[{"sku":"A"},{"sku":"B"}]}`, false},
	{"array/consistency same element", `{"data":{"items":{"sku":["A"],"qty":[2]}}}`, `{"items":[{"sku":"A","qty":2},{"sku":"B","qty":1}]}`, true},
	{"array/consistency across elements", `{"data":{"items":{"sku":["A"],"qty":[2]}}}`, `{"items":[{"sku":"A","qty":1},{"sku":"B","qty":2}]}`, false},
	{"array/EB employees", `{"data":{"employees":{"firstName":["Anna"],"lastName":["Jones"]}}}`, `{"employees":[[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"}],[{"firstName":"Peter","lastName":"Jones"}]]}`, false},
	{"array/EB employees one", `{"data":{"employees":{"firstName":["Anna"]}}}`, `{"employees":[[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"}],[{"firstName":"Peter","lastName":"Jones"}]]}`, true},
	{"array/exists false in one element", `{"data":{"items":{"sku":["B"],"discount":[{"exists":false}]}}}`, `{"items":[{"sku":"A","discount":5},{"sku":"B"}]}`, true},
	{"array/exists false in matched element", `{"data":{"items":{"sku":["A"],"discount":[{"exists":false}]}}}`, `{"items":[{"sku":"A","discount":5},{"sku":"B"}]}`, false},
	{"array/root array", `{"data":{"a":["x"]}}`, `[{"a":"y"},{"a":"x"}]`, true},
	{"array/root scalar", `{"data":{"a":["x"]}}`, `"x"`, false},
	{"array/root scalar exists false", `{"data":{"a":[{"exists":false}]}}`, `5`, true},

	// Duplicate keys: the last one wins.
	{"duplicate/data last wins", `{"data":{"a":["y"]}}`, `{"a":"x","a":"y"}`, true},
	{"duplicate/data first loses", `{"data":{"a":["x"]}}`, `{"a":"x","a":"y"}`, false},
	{"duplicate/pattern last wins", `{"data":{"a":["x"],"a":["y"]}}`, `{"a":"y"}`, true},
	{"duplicate/pattern first loses", `{"data":{"a":["x"],"a":["y"]}}`, `{"a":"x"}`, false},

	// Data that is not JSON never matches a pattern with a data key.
	{"non-JSON/text", `{"data":{"a":[{"exists":false}]}}`, `hello world`, false},
	{"non-JSON/empty", `{"data":{"a":[{"exists":false}]}}`, ``, false},
	{"non-JSON/whitespace", `{"data":{"a":[{"exists":false}]}}`, " \n\t", false},
	{"non-JSON/truncated", `{"data":{"a":["x"]}}`, `{"a":"x"`, false},
	{"non-JSON/trailing data", `{"data":{"a":["x"]}}`, `{"a":"x"} {}`, false},
	{"non-JSON/trailing comma", `{"data":{"a":["x"]}}`, `{"a":"x",}`, false},
	{"non-JSON/single quotes", `{"data":{"a":["x"]}}`, `{'a':'x'}`, false},
	{"non-JSON/leading zero", `{"data":{"a":["x"]}}`, `{"a":"x","n":01}`, false},
	{"non-JSON/bad escape", `{"data":{"a":["x"]}}`, `{"a":"x","b":"\q"}`, false},
	{"non-JSON/control char", `{"data":{"a":["x"]}}`, "{\"a\":\"x\",\"b\":\"\x01\"}", false},
	{"non-JSON/NaN", `{"data":{"a":["x"]}}`, `{"a":"x","n":NaN}`, false},
	{"non-JSON/bad literal", `{"data":{"a":["x"]}}`, `{"a":"x","b":tru}`, false},
	{"non-JSON/BOM", `{"data":{"a":["x"]}}`, "\xef\xbb\xbf{\"a\":\"x\"}", false},
	{"non-JSON/invalid UTF-8 in value", `{"data":{"a":["x"]}}`, "{\"a\":\"x\",\"b\":\"\xff\"}", false},
	{"non-JSON/invalid UTF-8 in key", `{"data":{"a":["x"]}}`, "{\"a\":\"x\",\"\xc3\x28\":1}", false},
	{"non-JSON/UTF-8 surrogate bytes", `{"data":{"a":["x"]}}`, "{\"a\":\"x\",\"b\":\"\xed\xa0\x80\"}", false},
	{"non-JSON/invalid UTF-8 outside strings", `{"data":{"a":["x"]}}`, "{\"a\":\"x\"}\xff", false},
	{"JSON/valid UTF-8 multibyte", `{"data":{"a":["x"]}}`, "{\"a\":\"x\",\"b\":\"\xe2\x82\xac \xf0\x9f\x98\x80\"}", true},
	{"JSON/whitespace everywhere", `{"data":{"a":["x"]}}`, " {\n\t\"a\" :\r\n \"x\" , \"b\" : [ 1 , { } ] } ", true},

	// Data nested deeper than 1000 levels is treated as not JSON.
	{"depth/1000 levels", `{"data":{"a":[{"exists":false}]}}`, strings.Repeat("[", 1000) + strings.Repeat("]", 1000), true},
	{"depth/1001 levels", `{"data":{"a":[{"exists":false}]}}`, strings.Repeat("[", 1001) + strings.Repeat("]", 1001), false},
	{"depth/1001 levels skipped subtree", `{"data":{"a":["x"]}}`, `{"a":"x","b":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`, false},
	{"depth/999 levels under object", `{"data":{"a":["x"]}}`, `{"a":"x","b":` + strings.Repeat("[", 999) + strings.Repeat("]", 999) + `}`, true},
	{"depth/deep referenced path", `{"data":{"a":{"a":{"a":["x"]}}}}`, strings.Repeat(`{"a":`, 3) + `"x"` + strings.Repeat("}", 3), true},
	{"depth/100000 unclosed", `{"data":{"a":["x"]}}`, strings.Repeat(`{"a":[`, 100000), false},

	// Escapes and the many-fields lookup path.
	{"escapes/control escapes", `{"data":{"s":["a\b\f\n\r\t\u00c9/"]}}`, `{"s":"a\b\f\n\r\t\u00C9\/"}`, true},
	{"escapes/unreferenced escaped key", `{"data":{"s":["x"]}}`, `{"\u0073x":"y","s":"x"}`, true},
	{"escapes/escaped key of nested object", `{"data":{"o":{"k":["v"]}}}`, `{"\u006f":{"\u006b":"v"}}`, true},
	{"many fields/all match", manyFieldsPattern, manyFieldsData(12), true},
	{"many fields/one missing", manyFieldsPattern, manyFieldsData(11), false},

	// Syntax errors inside skipped (unreferenced) values still make data "not JSON".
	{"non-JSON/skipped object missing colon", `{"data":{"a":["x"]}}`, `{"a":"x","b":{"c" 1}}`, false},
	{"non-JSON/skipped object number key", `{"data":{"a":["x"]}}`, `{"a":"x","b":{1:2}}`, false},
	{"non-JSON/skipped object missing comma", `{"data":{"a":["x"]}}`, `{"a":"x","b":{"c":1 "d":2}}`, false},
	{"non-JSON/skipped object unterminated", `{"data":{"a":["x"]}}`, `{"a":"x","b":{"c":1`, false},
	{"non-JSON/skipped array missing comma", `{"data":{"a":["x"]}}`, `{"a":"x","b":[1 2]}`, false},
	{"non-JSON/skipped array unterminated", `{"data":{"a":["x"]}}`, `{"a":"x","b":[1,`, false},
	{"non-JSON/skipped bad number", `{"data":{"a":["x"]}}`, `{"a":"x","b":[1.]}`, false},
	{"non-JSON/skipped bad exponent", `{"data":{"a":["x"]}}`, `{"a":"x","b":[1e+]}`, false},
	{"non-JSON/skipped lone minus", `{"data":{"a":["x"]}}`, `{"a":"x","b":-}`, false},
	{"non-JSON/bad unicode escape", `{"data":{"a":["x"]}}`, `{"a":"x","b":"\u12g4"}`, false},
	{"non-JSON/referenced array missing comma", `{"data":{"a":["x"]}}`, `{"a":["x" "y"]}`, false},
	{"non-JSON/referenced object missing comma", `{"data":{"a":{"b":["x"]}}}`, `{"a":{"b":"x" "c":1}}`, false},
	{"JSON/skipped values of every kind", `{"data":{"a":["x"]}}`, `{"b":{"c":[true,false,null,-0.5e-3,"s\"",{}],"d":{}},"a":"x","e":[]}`, true},
	{"JSON/numbers of every form", `{"data":{"n":[{"numeric":[">=",-1]}]}}`, `{"n":[-1,0,-0,1.5,2E3,2e+3,2e-3]}`, true},

	// {} matches everything, even non-JSON data.
	{"match-all/JSON", `{}`, sensor, true},
	{"match-all/non-JSON", `{}`, "\xff\x00 binary", true},
	{"match-all/empty", ` { } `, ``, true},
}

// manyFieldsPattern names more fields than the trie's linear-lookup threshold.
var manyFieldsPattern = func() string {
	var b strings.Builder
	b.WriteString(`{"data":{`)
	for i := range 12 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"f%d":[%d]`, i, i)
	}
	b.WriteString(`}}`)
	return b.String()
}()

// manyFieldsData returns a record with fields f0…f(n-1) set to their index,
// interleaved with fields no pattern references.
func manyFieldsData(n int) string {
	var b strings.Builder
	b.WriteString(`{`)
	for i := range n {
		fmt.Fprintf(&b, `"g%d":"skip","f%d":%d,`, i, i, i)
	}
	b.WriteString(`"z":null}`)
	return b.String()
}

func TestMatchConformance(t *testing.T) {
	for _, tc := range conformance {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Compile([]string{tc.pattern})
			if err != nil {
				t.Fatalf("Compile(%s) = %v; want nil error", tc.pattern, err)
			}
			wantFilter := -1
			if tc.want {
				wantFilter = 0
			}
			ok, filter := c.Match([]byte(tc.data))
			if ok != tc.want || filter != wantFilter {
				t.Errorf("Match(%q) with pattern %s = (%v, %d); want (%v, %d)", tc.data, tc.pattern, ok, filter, tc.want, wantFilter)
			}
		})
	}
}

func TestMatchSeveralFilters(t *testing.T) {
	tests := []struct {
		name       string
		patterns   []string
		data       string
		wantOK     bool
		wantFilter int
	}{
		{"no filters pass everything", nil, "not json", true, -1},
		{"empty list passes everything", []string{}, sensor, true, -1},
		{"first match wins", []string{
			`{"data":{"device_id":["other"]}}`,
			`{"data":{"temperature":[{"numeric":[">",20]}]}}`,
			`{"data":{"humidity":[{"numeric":[">",40]}]}}`,
		}, sensor, true, 1},
		{"none match", []string{
			`{"data":{"device_id":["other"]}}`,
			`{"data":{"temperature":[{"numeric":[">",30]}]}}`,
		}, sensor, false, -1},
		{"match-all after data filter, non-JSON", []string{
			`{"data":{"a":["x"]}}`,
			`{}`,
		}, "plain text", true, 1},
		{"match-all first", []string{`{}`, `{"data":{"a":["x"]}}`}, `{"a":"x"}`, true, 0},
		{"five filters, last matches", []string{
			`{"data":{"a":["1"]}}`,
			`{"data":{"a":["2"]}}`,
			`{"data":{"a":["3"]}}`,
			`{"data":{"a":["4"]}}`,
			`{"data":{"a":["5"]}}`,
		}, `{"a":"5"}`, true, 4},
		{"shared paths across filters", []string{
			`{"data":{"location":{"lat":[{"numeric":["<",0]}]}}}`,
			`{"data":{"location":["x"]}}`,
			`{"data":{"location":{"lon":[13.405]}}}`,
		}, sensor, true, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Compile(tc.patterns)
			if err != nil {
				t.Fatalf("Compile(%q) = %v; want nil error", tc.patterns, err)
			}
			if c.Len() != len(tc.patterns) {
				t.Errorf("Len() = %d; want %d", c.Len(), len(tc.patterns))
			}
			ok, filter := c.Match([]byte(tc.data))
			if ok != tc.wantOK || filter != tc.wantFilter {
				t.Errorf("Match(%q) = (%v, %d); want (%v, %d)", tc.data, ok, filter, tc.wantOK, tc.wantFilter)
			}
		})
	}
}

// TestMatchLargeRecord matches a record whose tape outgrows the pooled buffers,
// then a normal one, to check that dropping oversized scratch is harmless.
func TestMatchLargeRecord(t *testing.T) {
	c, err := Compile([]string{`{"data":{"a":["x"],"s":[{"suffix":"z"}]}}`})
	if err != nil {
		t.Fatalf("Compile = %v", err)
	}
	var b strings.Builder
	b.WriteString(`{"s":"` + strings.Repeat(`\u0041`, 40000) + `z","a":[`)
	for i := range 3 * maxPooledTape {
		fmt.Fprintf(&b, "%d,", i)
	}
	b.WriteString(`"x"]}`)
	for _, data := range []string{b.String(), `{"a":"x","s":"z"}`, b.String()} {
		if ok, filter := c.Match([]byte(data)); !ok || filter != 0 {
			t.Errorf("Match(%d-byte record) = (%v, %d); want (true, 0)", len(data), ok, filter)
		}
	}
}

func TestNilCriteria(t *testing.T) {
	var c *Criteria
	if ok, filter := c.Match([]byte("x")); !ok || filter != -1 {
		t.Errorf("(*Criteria)(nil).Match = (%v, %d); want (true, -1)", ok, filter)
	}
	if n := c.Len(); n != 0 {
		t.Errorf("(*Criteria)(nil).Len() = %d; want 0", n)
	}
}

func TestCompileErrors(t *testing.T) {
	valid := `{"data":{"a":["x"]}}`
	tests := []struct {
		name       string
		patterns   []string
		wantFilter int
		wantMsg    string // the whole Error() text, or a prefix ending in "…"
	}{
		{"not JSON", []string{`{"data":`}, 0, `filter 0: pattern is not valid JSON: unexpected end of input`},
		{"not JSON/garbage", []string{valid, `{data: 1}`}, 1, `filter 1: pattern is not valid JSON: invalid character 'd'…`}, // the rest is encoding/json's wording, which changed in Go 1.27
		{"not JSON/empty", []string{``}, 0, `filter 0: pattern is not valid JSON: unexpected end of input`},
		{"not JSON/trailing", []string{`{"data":{"a":["x"]}} {}`}, 0, `filter 0: pattern is not valid JSON: unexpected data after the pattern object`},
		{"not UTF-8", []string{"{\"data\":{\"a\":[\"\xff\"]}}"}, 0, `filter 0: pattern is not valid UTF-8`},
		{"not an object/array", []string{`[{"data":{}}]`}, 0, `filter 0: pattern must be a JSON object, got array`},
		{"not an object/string", []string{`"data"`}, 0, `filter 0: pattern must be a JSON object, got string`},
		{"unknown operator", []string{valid, valid, `{"data":{"name":[{"contains":"x"}]}}`}, 2, `filter 2: unknown operator "contains" at data.name`},
		{"wildcard", []string{valid, valid, `{"data":{"name":[{"wildcard":"a*"}]}}`}, 2, `filter 2: unknown operator "wildcard" at data.name: wildcard matching is not supported by Lambda event source mapping filters`},
		{"anything-but wildcard", []string{`{"data":{"name":[{"anything-but":{"wildcard":"a*"}}]}}`}, 0, `filter 0: unknown operator "wildcard" inside "anything-but" at data.name: wildcard matching is not supported by Lambda event source mapping filters`},
		{"cidr", []string{`{"data":{"ip":[{"cidr":"10.0.0.0/8"}]}}`}, 0, `filter 0: unknown operator "cidr" at data.ip: IP address (cidr) matching is not supported by Lambda event source mapping filters`},
		{"$or field", []string{`{"data":{"$or":[{"a":["x"]},{"b":["y"]}]}}`}, 0, `filter 0: "$or" at data is not supported by Lambda event source mapping filters`},
		{"$or top level", []string{`{"$or":[{"data":{"a":["x"]}},{"data":{"b":["y"]}}]}`}, 0, `filter 0: "$or" is not supported by Lambda event source mapping filters`},
		{"$or operator", []string{`{"data":{"a":[{"$or":["x"]}]}}`}, 0, `filter 0: unknown operator "$or" at data.a: $or is not supported by Lambda event source mapping filters`},
		{"numeric/one element", []string{`{"data":{"n":[{"numeric":[">"]}]}}`}, 0, `filter 0: malformed "numeric" at data.n: got 1 elements; use …`},
		{"numeric/not array", []string{`{"data":{"n":[{"numeric":5}]}}`}, 0, `filter 0: malformed "numeric" at data.n: value must be an array, got number; use …`},
		{"numeric/operator not a string", []string{`{"data":{"n":[{"numeric":[5,">"]}]}}`}, 0, `filter 0: malformed "numeric" at data.n: element 0 must be an operator string, got number; use …`},
		{"numeric/string value", []string{`{"data":{"n":[{"numeric":[">","5"]}]}}`}, 0, `filter 0: malformed "numeric" at data.n: value of ">" must be a number, got string; use …`},
		{"numeric/unknown comparison", []string{`{"data":{"n":[{"numeric":["!=",5]}]}}`}, 0, `filter 0: malformed "numeric" at data.n: unknown comparison "!="; use …`},
		{"numeric/upper then lower", []string{`{"data":{"n":[{"numeric":["<",5,">",1]}]}}`}, 0, `filter 0: malformed "numeric" at data.n: a range must give the lower bound (> or >=) first and then the upper bound (< or <=); use …`},
		{"numeric/two lower bounds", []string{`{"data":{"n":[{"numeric":[">",1,">=",5]}]}}`}, 0, `filter 0: malformed "numeric" at data.n: a range must give the lower bound (> or >=) first and then the upper bound (< or <=); use …`},
		{"numeric/= in range", []string{`{"data":{"n":[{"numeric":["=",1,"<",5]}]}}`}, 0, `filter 0: malformed "numeric" at data.n: "=" cannot be combined with another comparison; use …`},
		{"numeric/empty range", []string{`{"data":{"n":[{"numeric":[">",5,"<",5]}]}}`}, 0, `filter 0: malformed "numeric" at data.n: lower bound 5 must be less than upper bound 5; use …`},
		{"numeric/three elements", []string{`{"data":{"n":[{"numeric":[">",1,"<"]}]}}`}, 0, `filter 0: malformed "numeric" at data.n: got 3 elements; use …`},
		{"numeric/out of range", []string{`{"data":{"n":[{"numeric":[">",1e400]}]}}`}, 0, `filter 0: number 1e400 at data.n is out of range`},
		{"too many filters", []string{valid, valid, valid, valid, valid, valid}, 5, `filter 5: 6 filters given: at most 5 filters per event source mapping; AWS allows up to 10 by quota increase`},
		{"pattern too long", []string{`{"data":{"a":["` + strings.Repeat("x", 4096) + `"]}}`}, 0, `filter 0: pattern is 4115 characters long; the maximum is 4096`},
		{"top-level key", []string{`{"partitionKey":["1"],"data":{"a":["x"]}}`}, 0, `filter 0: top-level key "partitionKey" is not supported: Kinesis event source mappings only support filtering on the "data" key`},
		{"data not object", []string{`{"data":["x"]}`}, 0, `filter 0: "data" must be a JSON object of field patterns (Kinesis record data is filtered as JSON), got array`},
		{"leaf not array/string", []string{`{"data":{"a":"x"}}`}, 0, `filter 0: value at data.a must be an array of match values or a nested object, got string`},
		{"leaf not array/number", []string{`{"data":{"b":{"a":5}}}`}, 0, `filter 0: value at data.b.a must be an array of match values or a nested object, got number`},
		{"leaf not array/null", []string{`{"data":{"a":null}}`}, 0, `filter 0: value at data.a must be an array of match values or a nested object, got null`},
		{"empty array", []string{`{"data":{"a":[]}}`}, 0, `filter 0: empty array at data.a: give at least one match value`},
		{"empty nested object", []string{`{"data":{}}`}, 0, `filter 0: empty object at data: a pattern object must name at least one field`},
		{"nested array value", []string{`{"data":{"a":[["x"]]}}`}, 0, `filter 0: nested array at data.a: match values must be strings, numbers, booleans, null or operator objects`},
		{"empty match expression", []string{`{"data":{"a":[{}]}}`}, 0, `filter 0: empty match expression at data.a: give one operator such as prefix, numeric or exists`},
		{"two operators", []string{`{"data":{"a":[{"prefix":"x","suffix":"y"}]}}`}, 0, `filter 0: match expression at data.a has 2 operators ("prefix", "suffix"); give exactly one per object`},
		{"exists not bool", []string{`{"data":{"a":[{"exists":"true"}]}}`}, 0, `filter 0: value of "exists" at data.a must be true or false, got string`},
		{"prefix not string", []string{`{"data":{"a":[{"prefix":5}]}}`}, 0, `filter 0: value of "prefix" at data.a must be a string or {"equals-ignore-case": string}, got number`},
		{"suffix bad object", []string{`{"data":{"a":[{"suffix":{"wildcard":"x"}}]}}`}, 0, `filter 0: value of "suffix" at data.a must be a string or {"equals-ignore-case": string}, got object with key "wildcard"`},
		{"equals-ignore-case not string", []string{`{"data":{"a":[{"equals-ignore-case":["x"]}]}}`}, 0, `filter 0: value of "equals-ignore-case" at data.a must be a string, got array`},
		{"anything-but mixed", []string{`{"data":{"a":[{"anything-but":["x",1]}]}}`}, 0, `filter 0: malformed "anything-but" at data.a: the list must contain only strings or only numbers, not both`},
		{"anything-but empty", []string{`{"data":{"a":[{"anything-but":[]}]}}`}, 0, `filter 0: malformed "anything-but" at data.a: the list is empty`},
		{"anything-but null", []string{`{"data":{"a":[{"anything-but":[null]}]}}`}, 0, `filter 0: malformed "anything-but" at data.a: list elements must be strings or numbers, got null`},
		{"anything-but bool", []string{`{"data":{"a":[{"anything-but":true}]}}`}, 0, `filter 0: malformed "anything-but" at data.a: value must be a string, a number, a list of strings or numbers, or an object, got boolean`},
		{"anything-but empty prefix", []string{`{"data":{"a":[{"anything-but":{"prefix":""}}]}}`}, 0, `filter 0: malformed "anything-but" at data.a: empty prefix is not allowed`},
		{"anything-but prefix list of a number", []string{`{"data":{"a":[{"anything-but":{"prefix":[123,"test"]}}]}}`}, 0, `filter 0: malformed "anything-but" at data.a: value of "prefix" must be a string or a list of strings, got number`},
		{"anything-but suffix list with null", []string{`{"data":{"a":[{"anything-but":{"suffix":[null,".txt"]}}]}}`}, 0, `filter 0: malformed "anything-but" at data.a: value of "suffix" must be a string or a list of strings, got null`},
		{"anything-but empty suffix list", []string{`{"data":{"a":[{"anything-but":{"suffix":[]}}]}}`}, 0, `filter 0: malformed "anything-but" at data.a: the suffix list is empty`},
		{"anything-but unknown", []string{`{"data":{"a":[{"anything-but":{"numeric":[">",1]}}]}}`}, 0, `filter 0: malformed "anything-but" at data.a: unknown operator "numeric" inside anything-but (use prefix, suffix or equals-ignore-case)`},
		{"anything-but single number out of range", []string{`{"data":{"a":[{"anything-but":1e400}]}}`}, 0, `filter 0: number 1e400 at data.a is out of range`},
		{"anything-but object of two keys", []string{`{"data":{"a":[{"anything-but":{"prefix":"x","suffix":"y"}}]}}`}, 0, `filter 0: malformed "anything-but" at data.a: the object must have exactly one key (prefix, suffix or equals-ignore-case), got 2`},
		{"anything-but empty equals-ignore-case list", []string{`{"data":{"a":[{"anything-but":{"equals-ignore-case":[]}}]}}`}, 0, `filter 0: malformed "anything-but" at data.a: the equals-ignore-case list is empty`},
		{"anything-but equals-ignore-case list with a number", []string{`{"data":{"a":[{"anything-but":{"equals-ignore-case":["x",1]}}]}}`}, 0, `filter 0: malformed "anything-but" at data.a: equals-ignore-case list elements must be strings, got number`},
		{"anything-but number out of range", []string{`{"data":{"a":[{"anything-but":[1,-1e999]}]}}`}, 0, `filter 0: number -1e999 at data.a is out of range`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Compile(tc.patterns)
			if err == nil {
				t.Fatalf("Compile(%q) = %v, nil; want error %q", tc.patterns, c, tc.wantMsg)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Compile(%q) error = %T; want *ValidationError", tc.patterns, err)
			}
			got := err.Error()
			if prefix, ok := strings.CutSuffix(tc.wantMsg, "…"); ok {
				if !strings.HasPrefix(got, prefix) {
					t.Errorf("Compile(%q) error = %q; want prefix %q", tc.patterns, got, prefix)
				}
			} else if got != tc.wantMsg {
				t.Errorf("Compile(%q) error = %q; want %q", tc.patterns, got, tc.wantMsg)
			}
			if ve.Filter != tc.wantFilter {
				t.Errorf("Compile(%q) error Filter = %d; want %d", tc.patterns, ve.Filter, tc.wantFilter)
			}
			if ve.Pattern != tc.patterns[tc.wantFilter] {
				t.Errorf("Compile(%q) error Pattern = %q; want %q", tc.patterns, ve.Pattern, tc.patterns[tc.wantFilter])
			}
		})
	}
}

func TestCompileLimits(t *testing.T) {
	// Exactly MaxFilters filters and exactly MaxPatternLength characters (not
	// bytes: "é" is two bytes) are allowed.
	five := make([]string, MaxFilters)
	for i := range five {
		five[i] = fmt.Sprintf(`{"data":{"a":["%d"]}}`, i)
	}
	if _, err := Compile(five); err != nil {
		t.Errorf("Compile(%d filters) = %v; want nil error", MaxFilters, err)
	}
	head, tail := `{"data":{"a":["`, `"]}}`
	long := head + strings.Repeat("é", MaxPatternLength-len(head)-len(tail)) + tail
	c, err := Compile([]string{long})
	if err != nil {
		t.Fatalf("Compile(%d-character pattern) = %v; want nil error", MaxPatternLength, err)
	}
	data := `{"a":"` + strings.Repeat("é", MaxPatternLength-len(head)-len(tail)) + `"}`
	if ok, _ := c.Match([]byte(data)); !ok {
		t.Errorf("Match(long value) = false; want true")
	}
}

func TestMatchConcurrent(t *testing.T) {
	c, err := Compile([]string{
		`{"data":{"temperature":[{"numeric":[">",30]}]}}`,
		`{"data":{"device_id":[{"prefix":"sensor-000"}],"location":{"lat":[{"numeric":[">",50]}]}}}`,
	})
	if err != nil {
		t.Fatalf("Compile = %v", err)
	}
	hot := []byte(`{"device_id":"x","temperature":31,"tags":["a\u0062",{"k":"v"}]}`)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				if ok, f := c.Match([]byte(sensor)); !ok || f != 1 {
					errs <- fmt.Sprintf("Match(sensor) = (%v, %d); want (true, 1)", ok, f)
					return
				}
				if ok, f := c.Match(hot); !ok || f != 0 {
					errs <- fmt.Sprintf("Match(hot) = (%v, %d); want (true, 0)", ok, f)
					return
				}
				if ok, f := c.Match([]byte("garbage")); ok || f != -1 {
					errs <- fmt.Sprintf("Match(garbage) = (%v, %d); want (false, -1)", ok, f)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestMatchNoAllocs checks the steady state allocates nothing. It drives the
// scratch directly, because sync.Pool deliberately drops items under the race
// detector.
func TestMatchNoAllocs(t *testing.T) {
	c, err := Compile(benchPatterns)
	if err != nil {
		t.Fatalf("Compile = %v", err)
	}
	records := [][]byte{[]byte(sensor), []byte(`{"device_id":"sensor-\u0030007","temperature":36,"status":"alarm"}`)}
	sc := &scratch{}
	run := func() {
		for _, r := range records {
			root, err := sc.parse(r, &c.trie)
			if err != nil {
				t.Fatalf("parse(%s) = %v", r, err)
			}
			for _, f := range c.filters {
				sc.objMatches(f.data, root)
			}
		}
	}
	run() // warm the buffers
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("allocations per match of %d records = %v; want 0", len(records), n)
	}
}
