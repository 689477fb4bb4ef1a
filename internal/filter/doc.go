// Package filter implements the Lambda event-filtering pattern language for the
// FilterCriteria of a Kinesis event source mapping: it validates and compiles the
// patterns once (Compile) and then decides, record by record, whether Lambda would
// pass a record to the function or discard it (Criteria.Match).
//
// It follows these AWS pages:
//
//   - Lambda event filtering:
//     https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
//   - Using event filtering with a Kinesis event source:
//     https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis-filtering.html
//   - EventBridge content filtering (Lambda "supports the same set of syntax and
//     rules as Amazon EventBridge"):
//     https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
//     and the operator table with its "Pipe support" column:
//     https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
//   - FilterCriteria / Filter in the Lambda API (Pattern is at most 4096 characters):
//     https://docs.aws.amazon.com/lambda/latest/api/API_Filter.html
//
// # Semantics
//
// A pattern is a JSON object. For Kinesis the only top-level key is "data", whose
// value is an object matched against the record data (base64-decoded by the caller)
// parsed as JSON. Filters are ORed (Match reports the first one that matches); the
// fields of a pattern object are ANDed; the values in a field's array are ORed.
// Fields the pattern does not name are ignored. The pattern {} matches every record,
// including records whose data is not JSON. Data that is not valid JSON never
// matches a pattern that has a "data" key (the DG's "Lambda drops the record").
//
// Match values: strings match strings exactly, byte for byte after JSON unescaping
// (no case folding, no Unicode normalisation); numbers match numbers by their
// textual representation, so 300, 300.0 and 3.0e2 are all different, as the Lambda
// DG says; true, false and null match those literals; "" matches the empty string.
// Operators (each an object with exactly one key inside a field's array):
//
//	{"prefix": "us-"}                 string starts with
//	{"prefix": {"equals-ignore-case": "us-"}}
//	{"suffix": ".png"}                string ends with
//	{"suffix": {"equals-ignore-case": ".PNG"}}
//	{"equals-ignore-case": "alice"}   string equal under Unicode simple case folding
//	{"anything-but": "x"}             any present value except the string "x"
//	{"anything-but": 5}               any present value except a number equal to 5
//	{"anything-but": ["a", "b"]}      all strings or all numbers
//	{"anything-but": {"prefix": "p"}} or a list, {"prefix": ["p", "q"]}; also {"suffix": …} and
//	                                  {"equals-ignore-case": "s" or ["s", …]}
//	{"numeric": ["=", 100]}           numbers compared by decimal value (300 = 300.0)
//	{"numeric": [">", 10, "<=", 20]}  lower bound (>, >=) then upper bound (<, <=)
//	{"exists": true}                  the field has a value (null counts)
//	{"exists": false}                 the field has no value
//
// "wildcard", "$or" and "cidr" are rejected at Compile with an error saying Lambda
// event source mapping filters do not support them.
//
// Arrays and nesting follow EventBridge's array-consistent matching (the
// rulesForJSONEvent behaviour of AWS's event-ruler): a field whose value is an
// array matches if any element matches (nested arrays are flattened); a nested
// pattern object must be satisfied by a single element of an array of objects, so
// {"a": {"b": ["x"], "c": ["y"]}} does not match {"a": [{"b": "x"}, {"c": "y"}]};
// its {"exists": false} fields are checked in that same element too.
// Operators apply to leaf values only (strings, numbers, booleans, null): a field
// whose value is an object or an empty array has no value, so {"exists": false}
// matches it and {"exists": true} does not. Where a nested pattern object meets
// something that is not an object (a missing field, a scalar, an empty array), it is
// evaluated as if against an empty object. Valid JSON data that is not an object
// is handled the same way (an array is searched element by element).
//
// # Decisions where AWS is silent
//
//   - Duplicate keys, in patterns and in record data: the last one wins.
//   - Record data must be strict RFC 8259 JSON in UTF-8. Invalid UTF-8, a byte
//     order mark, trailing garbage, or nesting deeper than 1000 levels (the default
//     limit of Jackson, the parser AWS's event-ruler uses) make the data "not JSON":
//     it then matches only {} patterns.
//   - Numbers beyond the float64 range (for example 1e400) are valid JSON; they
//     match by representation, never satisfy a "numeric" condition, and count as
//     "not equal" for a numeric anything-but. Numbers in "numeric" and numeric
//     "anything-but" patterns must be finite float64 values; the ±5e9 (older
//     EventBridge documents say ±1e9) range limit is not enforced.
//   - anything-but is the negation of the wrapped test over one present leaf value:
//     {"anything-but": ["Raining"]} matches 5, null and "Sunny" but not a missing
//     field. Numeric anything-but compares by value, as EventBridge's engine does.
//   - EventBridge marks anything-but with prefix, suffix and equals-ignore-case as
//     unsupported for Pipes; this package accepts them (anything-but prefix is in
//     the project's required set), so such a pattern may still be refused by AWS.
//   - An empty nested object ({"data": {}}) is rejected, as EventBridge does
//     ("Empty objects are not allowed"); only the whole pattern may be {}.
//   - MaxFilters is the default AWS quota (5); AWS raises it to 10 on request.
//
// # Known difference
//
// A member name with a dot is one name here: {"a.b": ["x"]} matches the data
// {"a.b": "x"} and not {"a": {"b": "x"}}. EventBridge's recorded matching treats
// the two as the same path, in a pattern and in an event (LocalStack's
// AWS-validated tests/aws/services/events/event_pattern_templates/
// dot_joining_event.json5 and dot_joining_pattern.json5), as AWS's event-ruler
// flattens field names with dots; no Lambda recording or document says whether
// Lambda's filtering does. Records whose payload names have dots can therefore
// be filtered differently than here.
//
// # Implementation
//
// The JSON scanner is hand-written because no well-kept Go library implements the
// Lambda/EventBridge filter semantics, and a generic decode (encoding/json into
// any) allocates a tree per record and costs several times more than the matching
// itself. Compile builds one trie of every field path that any filter references;
// Match then parses the record once (not once per filter), validating the whole
// document but keeping only the values on referenced paths in a small reusable
// tape, and evaluates the filters over that tape in order. Steady-state matching
// does not allocate.
package filter
