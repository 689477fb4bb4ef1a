package pipeline

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"unicode/utf8"
)

// maxMessageBytes is the processor's bound on the {"message": …} form of a
// text payload (record.MaxMessageBytes): longer escaped text is stored as
// {"data_base64": …}. The check below keeps its own copy of the rule rather
// than calling package record, so that it tests the processor instead of
// repeating it.
const maxMessageBytes = 12 << 20

// originalDataMatches reports whether stored, a line's original_data, is the
// representation of the stream record's payload data: the same JSON value when
// data is UTF-8 JSON, {"message": text} when it is other UTF-8 text, else
// {"data_base64": standard base64}. Text whose {"message": …} form may exceed
// maxMessageBytes may also be in base64.
func originalDataMatches(data []byte, stored []byte) bool {
	got, ok := decodeJSONValue(stored)
	if !ok {
		return false
	}
	if utf8.Valid(data) {
		if v, ok := decodeJSONValue(data); ok {
			return reflect.DeepEqual(v, got)
		}
		if reflect.DeepEqual(map[string]any{"message": string(data)}, got) {
			return true
		}
		if !mayExceedMessageBytes(data) {
			return false
		}
	}
	return reflect.DeepEqual(map[string]any{"data_base64": base64.StdEncoding.EncodeToString(data)}, got)
}

// decodeJSONValue decodes b, which must hold exactly one JSON value, with
// numbers kept as written (json.Number), so that 1.0 and 1 differ as they do
// in the stored text.
func decodeJSONValue(b []byte) (any, bool) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false
	}
	return v, true
}

// mayExceedMessageBytes reports whether the {"message": …} form of text may be
// longer than maxMessageBytes: text over the bound, or text whose escaped form
// (as encoding/json writes it without HTML escapes, which escapes no less than
// the processor does) is.
func mayExceedMessageBytes(text []byte) bool {
	if len(text) > maxMessageBytes {
		return true
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(string(text))
	return len(`{"message":}`)+len(bytes.TrimSuffix(b.Bytes(), []byte("\n"))) > maxMessageBytes
}
