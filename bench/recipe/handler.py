"""The classic "Kinesis to S3 Lambda in Python" handler, as `make bench` compares it.

This is the widely copied recipe the project replaces, kept faithful so the
comparison is fair: every record's data is base64-decoded, decoded as UTF-8 and
parsed with json.loads (text that is not JSON is kept under "raw_data"), wrapped in
an enrichment dict with the field names the project keeps (original_data,
processing_timestamp, partition_key, sequence_number, event_id, processed), and
the whole batch is written as ONE object per invocation with
json.dumps(records, indent=2), uncompressed.

The only change is the S3 call: the recipe ends with boto3's
s3.put_object(Bucket=..., Key=..., Body=body, ContentType="application/json");
here the body is handed to a `put` callable instead (the benchmark discards it),
because the comparison is about the handler's CPU work, and the Go benchmark
discards its object the same way. The standard library only.
"""

import base64
import datetime
import json
import uuid


def lambda_handler(event, context, put):
    """Process one Kinesis batch; put(key, body, content_type) stores the object."""
    processed_records = []
    for record in event["Records"]:
        payload = base64.b64decode(record["kinesis"]["data"]).decode("utf-8")
        try:
            data = json.loads(payload)
        except json.JSONDecodeError:
            data = {"raw_data": payload}
        enriched_record = {
            "original_data": data,
            "processing_timestamp": datetime.datetime.utcnow().isoformat(),
            "partition_key": record["kinesis"]["partitionKey"],
            "sequence_number": record["kinesis"]["sequenceNumber"],
            "event_id": record["eventID"],
            "processed": True,
        }
        processed_records.append(enriched_record)

    if processed_records:
        timestamp = datetime.datetime.utcnow().strftime("%Y/%m/%d/%H")
        request_id = getattr(context, "aws_request_id", None) or str(uuid.uuid4())
        key = f"processed-data/{timestamp}/{request_id}.json"
        put(key, json.dumps(processed_records, indent=2), "application/json")

    return {
        "statusCode": 200,
        "body": json.dumps({"processed_records": len(processed_records)}),
    }
