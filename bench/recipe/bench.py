"""Time the classic recipe's handler (handler.py) on a Kinesis event file.

Usage: python3 bench.py EVENT.json [--min-time SECONDS] [--repeat N]

Each invocation is what Lambda's Python runtime does per event: json.loads of the
raw event bytes (the runtime decodes the event before calling the handler, and
that time is billed), then lambda_handler. The S3 PutObject is replaced by keeping
the body's UTF-8 size. It prints one JSON object: payload MB/s (payload = the
records' decoded data bytes, as the Go benchmarks count them; MB = 10^6 bytes, as
`go test` reports MB/s), output bytes per record, records/s and ms per batch.
The figures are the best of --repeat rounds of at least --min-time seconds each,
so that other load on the machine disturbs them least; cpu_ns_per_record is the
process's CPU time (time.process_time), which such load disturbs far less than
wall time.
"""

import argparse
import base64
import json
import sys
import time

import handler


class _Context:
    aws_request_id = "00000000-0000-0000-0000-000000000000"


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("event")
    ap.add_argument("--min-time", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    with open(args.event, "rb") as f:
        raw = f.read()
    event = json.loads(raw)
    records = event["Records"]
    payload = sum(len(base64.b64decode(r["kinesis"]["data"])) for r in records)

    out = {}

    def put(key, body, content_type):
        out["bytes"] = len(body.encode("utf-8"))

    ctx = _Context()

    def invoke():
        resp = handler.lambda_handler(json.loads(raw), ctx, put)
        if resp["statusCode"] != 200:
            raise SystemExit(f"handler returned {resp}")

    invoke()  # warm up
    best = best_cpu = None
    for _ in range(args.repeat):
        n = 0
        start = time.perf_counter()
        start_cpu = time.process_time()
        while True:
            invoke()
            n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= args.min_time:
                break
        per = elapsed / n
        per_cpu = (time.process_time() - start_cpu) / n
        best = per if best is None else min(best, per)
        best_cpu = per_cpu if best_cpu is None else min(best_cpu, per_cpu)

    json.dump(
        {
            "records": len(records),
            "payload_bytes": payload,
            "event_bytes": len(raw),
            "ms_per_batch": best * 1e3,
            "payload_MBps": payload / best / 1e6,
            "cpu_ns_per_record": best_cpu / len(records) * 1e9,
            "records_per_s": len(records) / best,
            "output_bytes_per_record": out["bytes"] / len(records),
            "python": sys.version.split()[0],
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
