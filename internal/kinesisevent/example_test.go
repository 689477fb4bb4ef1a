package kinesisevent_test

import (
	"fmt"
	"os"
	"time"

	"github.com/streamlake/streamlake/internal/kinesisevent"
)

func ExampleBuild() {
	at := time.Date(2026, 11, 21, 13, 40, 0, 250_000_000, time.UTC)
	ev, err := kinesisevent.Build([]kinesisevent.Record{
		{PartitionKey: "sensor-0001", Data: []byte(`{"device_id":"sensor-0001","temperature":21.5}`), ArrivalTime: at},
	}, kinesisevent.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := kinesisevent.Marshal(ev)
	if err != nil {
		fmt.Println(err)
		return
	}
	os.Stdout.Write(b)
	// Output:
	// {
	//   "Records": [
	//     {
	//       "kinesis": {
	//         "kinesisSchemaVersion": "1.0",
	//         "partitionKey": "sensor-0001",
	//         "sequenceNumber": "49657148256837120925312649873215874502659812305470881794",
	//         "data": "eyJkZXZpY2VfaWQiOiJzZW5zb3ItMDAwMSIsInRlbXBlcmF0dXJlIjoyMS41fQ==",
	//         "approximateArrivalTimestamp": 1795268400.252
	//       },
	//       "eventSource": "aws:kinesis",
	//       "eventVersion": "1.0",
	//       "eventID": "shardId-000000000000:49657148256837120925312649873215874502659812305470881794",
	//       "eventName": "aws:kinesis:record",
	//       "invokeIdentityArn": "arn:aws:iam::123456789012:role/streamlake-processor-role",
	//       "awsRegion": "us-east-1",
	//       "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/streamlake-sensor-stream"
	//     }
	//   ]
	// }
}
