package filter_test

import (
	"errors"
	"fmt"

	"github.com/streamlake/streamlake/internal/filter"
)

// Compile the FilterCriteria of a Kinesis event source mapping once, then
// match each record's decoded data.
func ExampleCompile() {
	criteria, err := filter.Compile([]string{
		`{"data": {"temperature": [{"numeric": [">", 30]}]}}`,
		`{"data": {"device_id": [{"prefix": "sensor-00"}], "location": {"lat": [{"numeric": [">=", 50, "<", 60]}]}}}`,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	records := []string{
		`{"device_id":"sensor-0007","temperature":21.43,"location":{"lat":52.52,"lon":13.405}}`,
		`{"device_id":"sensor-1234","temperature":35.2,"location":{"lat":48.1,"lon":11.6}}`,
		`{"device_id":"sensor-1234","temperature":20.0,"location":{"lat":48.1,"lon":11.6}}`,
		`not JSON`,
	}
	for _, r := range records {
		ok, i := criteria.Match([]byte(r))
		fmt.Println(ok, i)
	}
	// Output:
	// true 1
	// true 0
	// false -1
	// false -1
}

// A pattern Lambda would refuse yields a *ValidationError naming the filter.
func ExampleValidationError() {
	_, err := filter.Compile([]string{
		`{"data": {"name": ["a"]}}`,
		`{"data": {"name": [{"wildcard": "a*"}]}}`,
	})
	var ve *filter.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Filter)
		fmt.Println(err)
	}
	// Output:
	// 1
	// filter 1: unknown operator "wildcard" at data.name: wildcard matching is not supported by Lambda event source mapping filters
}
