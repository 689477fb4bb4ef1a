package metrics_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/streamlake/streamlake/internal/metrics"
)

func ExampleWriter_Emit() {
	w, err := metrics.New(os.Stdout, metrics.Config{
		Namespace: "streamlake", Service: "streamlake", FunctionName: "streamlake-processor",
		Now: func() time.Time { return time.Date(2026, 11, 21, 14, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	var s metrics.Set
	s.Add("RecordsWritten", metrics.Count, 500)
	s.Add("BatchDuration", metrics.Milliseconds, 12.5)
	if err := w.Emit(context.Background(), &s); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"_aws":{"Timestamp":1795269600000,"CloudWatchMetrics":[{"Namespace":"streamlake","Dimensions":[["Service"],["Service","FunctionName"]],"Metrics":[{"Name":"RecordsWritten","Unit":"Count"},{"Name":"BatchDuration","Unit":"Milliseconds"}]}]},"Service":"streamlake","FunctionName":"streamlake-processor","RecordsWritten":500,"BatchDuration":12.5}
}
