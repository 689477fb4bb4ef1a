package motoserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// startPair starts a stock moto server and one through the launcher with its
// fixes, from the same installation.
func startPair(t *testing.T) (stock, patched *Server) {
	t.Helper()
	bin, err := Binary()
	if err == nil && interpreter(bin) == "" {
		err = fmt.Errorf("%s is not a Python script: the launcher cannot run it", bin)
	}
	if err != nil {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("moto server: %v", err)
		}
		t.Skipf("needs moto server (%v); run `make test`", err)
	}
	start := func(stockMode bool) *Server {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		s, err := startCmd(context.Background(), bin, port, nil, false, stockMode)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	stock, patched = start(true), start(false)
	if Patched(stock.URL) {
		t.Fatal("the stock server says it is patched")
	}
	if !Patched(patched.URL) {
		t.Fatal("the launcher did not apply its fixes (is moto the pinned version?)")
	}
	return stock, patched
}

// call sends one JSON-protocol request (Kinesis, DynamoDB) and returns the
// status and the decoded body.
func call(t *testing.T, url, service, target string, body any) (int, any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	if service == "kinesis" {
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	}
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20261206/us-east-1/"+service+"/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			if resp.StatusCode >= 500 { // a server error's page is not JSON
				return resp.StatusCode, string(raw)
			}
			t.Fatalf("%s: %s: %v", target, raw, err)
		}
	}
	return resp.StatusCode, out
}

// exchange is one request and what a server answered.
type exchange struct {
	Target string
	Status int
	Body   any
}

// normalize drops the fields that differ between two servers by time or
// chance: timestamps, table ids, and how far behind a reader is (wall-clock).
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			switch k {
			case "ApproximateArrivalTimestamp", "MillisBehindLatest", "StreamCreationTimestamp",
				"CreationDateTime", "TableId", "LastUpdateToPayPerRequestDateTime",
				"LastIncreaseDateTime", "LastDecreaseDateTime":
				continue
			}
			out[k] = normalize(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = normalize(x[i])
		}
		return out
	}
	return v
}

// script is a call sequence; next picks a value of an earlier answer.
type script func(do func(target string, body any) any)

func runScript(t *testing.T, url, service string, s script) []exchange {
	var log []exchange
	s(func(target string, body any) any {
		status, out := call(t, url, service, target, body)
		log = append(log, exchange{Target: target, Status: status, Body: normalize(out)})
		return out
	})
	return log
}

func compareScripts(t *testing.T, service string, s script) {
	stock, patched := startPair(t)
	want := runScript(t, stock.URL, service, s)
	got := runScript(t, patched.URL, service, s)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the patched server answers differently from stock moto (-stock +patched):\n%s", diff)
	}
	var errs int
	for _, e := range want {
		if e.Status >= 400 {
			errs++
		}
	}
	if errs == 0 {
		t.Error("the script exercised no error path")
	}
}

func field(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// TestKinesisSameAnswers runs puts and reads from every kind of iterator with
// several limits against stock and patched moto. Resharding is left out: there
// the launcher answers as Kinesis does, not as stock moto (its fix 7;
// TestReshardDiffersFromStock here, and internal/kinesisreshard's tests check
// it against Kinesis's behaviour).
func TestKinesisSameAnswers(t *testing.T) {
	compareScripts(t, "kinesis", func(do func(string, any) any) {
		const k = "Kinesis_20131202."
		do(k+"CreateStream", map[string]any{"StreamName": "s", "ShardCount": 2})
		// Reads of an empty shard.
		it := do(k+"GetShardIterator", map[string]any{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"})
		do(k+"GetRecords", map[string]any{"ShardIterator": field(it, "ShardIterator"), "Limit": 5})
		var records []any
		for i := range 60 {
			records = append(records, map[string]any{"PartitionKey": fmt.Sprintf("device-%d", i%13), "Data": "eyJ0IjoxfQ=="})
		}
		put := do(k+"PutRecords", map[string]any{"StreamName": "s", "Records": records})
		for i := range 5 {
			do(k+"PutRecord", map[string]any{"StreamName": "s", "PartitionKey": fmt.Sprintf("p%d", i), "Data": "eA=="})
		}
		do(k+"PutRecords", map[string]any{"StreamName": "s", "Records": make([]any, 501)}) // too many
		do(k+"ListShards", map[string]any{"StreamName": "s"})
		do(k+"DescribeStream", map[string]any{"StreamName": "s"})
		seq := field(put, "Records", 7, "SequenceNumber")
		shard := field(put, "Records", 7, "ShardId")
		for _, shardID := range []any{"shardId-000000000000", "shardId-000000000001"} {
			for _, limit := range []any{1, 7, 10000, nil} {
				body := map[string]any{"StreamName": "s", "ShardId": shardID, "ShardIteratorType": "TRIM_HORIZON"}
				next := field(do(k+"GetShardIterator", body), "ShardIterator")
				for range 40 {
					req := map[string]any{"ShardIterator": next}
					if limit != nil {
						req["Limit"] = limit
					}
					out := do(k+"GetRecords", req)
					next = field(out, "NextShardIterator")
					if n, _ := field(out, "Records").([]any); len(n) == 0 {
						break
					}
				}
			}
		}
		for _, typ := range []string{"AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"} {
			it := do(k+"GetShardIterator", map[string]any{"StreamName": "s", "ShardId": shard, "ShardIteratorType": typ, "StartingSequenceNumber": seq})
			do(k+"GetRecords", map[string]any{"ShardIterator": field(it, "ShardIterator"), "Limit": 3})
		}
		for _, ts := range []float64{0, 4102444800} { // before everything, 2100
			it := do(k+"GetShardIterator", map[string]any{"StreamName": "s", "ShardId": "shardId-000000000001", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": ts})
			do(k+"GetRecords", map[string]any{"ShardIterator": field(it, "ShardIterator"), "Limit": 4})
		}
		it = do(k+"GetShardIterator", map[string]any{"StreamName": "s", "ShardId": "shardId-000000000001", "ShardIteratorType": "LATEST"})
		do(k+"PutRecord", map[string]any{"StreamName": "s", "PartitionKey": "late", "Data": "eQ=="})
		do(k+"GetRecords", map[string]any{"ShardIterator": field(it, "ShardIterator")})
		do(k+"GetRecords", map[string]any{"ShardIterator": "bm9wZTpub3BlOjA=", "Limit": 1}) // unknown stream
	})
}

// TestTransactWriteItemsSameAnswers runs successful and cancelled transactions
// (conditions, new and existing items and partitions, deletes, duplicate
// targets) against stock and patched moto and compares every answer and the
// tables' contents and order afterwards.
func TestTransactWriteItemsSameAnswers(t *testing.T) {
	compareScripts(t, "dynamodb", func(do func(string, any) any) {
		const d = "DynamoDB_20120810."
		s := func(v string) map[string]any { return map[string]any{"S": v} }
		n := func(v string) map[string]any { return map[string]any{"N": v} }
		do(d+"CreateTable", map[string]any{"TableName": "r", "BillingMode": "PAY_PER_REQUEST",
			"KeySchema":            []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}, map[string]any{"AttributeName": "sk", "KeyType": "RANGE"}},
			"AttributeDefinitions": []any{map[string]any{"AttributeName": "pk", "AttributeType": "S"}, map[string]any{"AttributeName": "sk", "AttributeType": "S"}}})
		do(d+"CreateTable", map[string]any{"TableName": "h", "BillingMode": "PAY_PER_REQUEST",
			"KeySchema":            []any{map[string]any{"AttributeName": "id", "KeyType": "HASH"}},
			"AttributeDefinitions": []any{map[string]any{"AttributeName": "id", "AttributeType": "S"}}})
		for i := range 6 {
			do(d+"PutItem", map[string]any{"TableName": "r", "Item": map[string]any{"pk": s(fmt.Sprintf("p%d", i%2)), "sk": s(fmt.Sprintf("s%d", i)), "n": n("1"), "tags": map[string]any{"SS": []any{"a"}}}})
			do(d+"PutItem", map[string]any{"TableName": "h", "Item": map[string]any{"id": s(fmt.Sprintf("i%d", i)), "n": n("1")}})
		}
		update := func(table string, key map[string]any, cond string) map[string]any {
			u := map[string]any{"TableName": table, "Key": key, "UpdateExpression": "ADD n :one SET m = :one",
				"ExpressionAttributeValues": map[string]any{":one": n("1")}}
			if cond != "" {
				u["ConditionExpression"] = cond
				u["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
			}
			return map[string]any{"Update": u}
		}
		rk := func(pk, sk string) map[string]any { return map[string]any{"pk": s(pk), "sk": s(sk)} }
		hk := func(id string) map[string]any { return map[string]any{"id": s(id)} }
		tx := func(items ...any) { do(d+"TransactWriteItems", map[string]any{"TransactItems": items}) }
		// Succeeds: updates of existing and new items, a put into a new
		// partition, a delete, a condition check.
		tx(update("r", rk("p0", "s0"), ""), update("r", rk("p9", "new"), "attribute_not_exists(pk)"),
			map[string]any{"Put": map[string]any{"TableName": "r", "Item": map[string]any{"pk": s("p1"), "sk": s("s0b"), "v": s("x")}}},
			map[string]any{"Delete": map[string]any{"TableName": "h", "Key": hk("i2")}},
			map[string]any{"ConditionCheck": map[string]any{"TableName": "h", "Key": hk("i1"), "ConditionExpression": "n = :one", "ExpressionAttributeValues": map[string]any{":one": n("1")}}})
		// Cancelled by its last action, after it changed existing items, added
		// items to existing and new partitions and deleted from both tables.
		tx(update("r", rk("p0", "s2"), ""), update("r", rk("p0", "zz"), ""), update("r", rk("p7", "a"), ""),
			map[string]any{"Delete": map[string]any{"TableName": "r", "Key": rk("p1", "s1")}},
			map[string]any{"Delete": map[string]any{"TableName": "h", "Key": hk("i0")}},
			map[string]any{"Put": map[string]any{"TableName": "h", "Item": map[string]any{"id": s("i3"), "replaced": s("yes")}}},
			map[string]any{"Put": map[string]any{"TableName": "h", "Item": map[string]any{"id": s("brand-new")}}},
			update("h", hk("i4"), "attribute_not_exists(id)"))
		// Cancelled in the middle (the later actions still run, as in moto).
		tx(update("r", rk("p0", "s4"), "n = :one"), update("r", rk("p1", "s3"), ""))
		// A missing table, a duplicate target, a type mismatch.
		tx(update("missing", rk("a", "b"), ""))
		tx(update("r", rk("p0", "s0"), ""), update("r", rk("p0", "s0"), ""))
		tx(update("r", rk("p0", "s0"), ""), map[string]any{"Put": map[string]any{"TableName": "r", "Item": map[string]any{"pk": n("1"), "sk": s("x")}}})
		tx(update("r", rk("p0", "s0"), ""), map[string]any{"Update": map[string]any{"TableName": "r", "Key": rk("p0", "s5"), "UpdateExpression": "ADD tags :one", "ExpressionAttributeValues": map[string]any{":one": n("1")}}})
		// What the tables hold, in their order.
		for _, table := range []string{"r", "h"} {
			do(d+"Scan", map[string]any{"TableName": table})
			do(d+"DescribeTable", map[string]any{"TableName": table})
		}
		do(d+"Query", map[string]any{"TableName": "r", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": map[string]any{":p": s("p0")}})
		// A write after the rollbacks.
		do(d+"PutItem", map[string]any{"TableName": "h", "Item": map[string]any{"id": s("later")}})
		do(d+"Scan", map[string]any{"TableName": "h"})
	})
}

// TestPatchedServerConcurrency hammers the patched server's Kinesis and
// DynamoDB from several goroutines: no request may fail with a 5xx, and
// transactions stay isolated (every committed increment counted once).
func TestPatchedServerConcurrency(t *testing.T) {
	_, srv := startPair(t)
	const k, d = "Kinesis_20131202.", "DynamoDB_20120810."
	status := func(service, target string, body any) (int, any) { return call(t, srv.URL, service, target, body) }
	if st, _ := status("kinesis", k+"CreateStream", map[string]any{"StreamName": "c", "ShardCount": 1}); st != 200 {
		t.Fatalf("CreateStream: %d", st)
	}
	if st, _ := status("dynamodb", d+"CreateTable", map[string]any{"TableName": "c", "BillingMode": "PAY_PER_REQUEST",
		"KeySchema":            []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}},
		"AttributeDefinitions": []any{map[string]any{"AttributeName": "pk", "AttributeType": "S"}}}); st != 200 {
		t.Fatalf("CreateTable: %d", st)
	}
	var committed atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []string
	fail := func(format string, a ...any) { mu.Lock(); bad = append(bad, fmt.Sprintf(format, a...)); mu.Unlock() }
	for w := range 6 {
		wg.Go(func() {
			for i := range 40 {
				switch w % 3 {
				case 0:
					recs := make([]any, 50)
					for j := range recs {
						recs[j] = map[string]any{"PartitionKey": fmt.Sprint(j), "Data": "eA=="}
					}
					if st, _ := status("kinesis", k+"PutRecords", map[string]any{"StreamName": "c", "Records": recs}); st != 200 {
						fail("PutRecords: %d", st)
					}
				case 1:
					it := field(mustOK(status("kinesis", k+"GetShardIterator", map[string]any{"StreamName": "c", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"})), "ShardIterator")
					if st, _ := status("kinesis", k+"GetRecords", map[string]any{"ShardIterator": it}); st != 200 {
						fail("GetRecords: %d", st)
					}
				case 2:
					// Two counters moved together; a transaction fails when
					// its condition (a version) is stale, as the aggregator's do.
					items := []any{}
					for _, pk := range []string{"a", "b", fmt.Sprintf("w%d-%d", w, i)} {
						items = append(items, map[string]any{"Update": map[string]any{"TableName": "c", "Key": map[string]any{"pk": map[string]any{"S": pk}},
							"UpdateExpression": "ADD n :one", "ExpressionAttributeValues": map[string]any{":one": map[string]any{"N": "1"}}}})
					}
					st, _ := status("dynamodb", d+"TransactWriteItems", map[string]any{"TransactItems": items})
					switch {
					case st == 200:
						committed.Add(1)
					case st >= 500:
						fail("TransactWriteItems: %d", st)
					}
				}
			}
		})
	}
	wg.Wait()
	for _, b := range bad {
		t.Error(b)
	}
	for _, pk := range []string{"a", "b"} {
		_, out := status("dynamodb", d+"GetItem", map[string]any{"TableName": "c", "Key": map[string]any{"pk": map[string]any{"S": pk}}, "ConsistentRead": true})
		if got, want := field(out, "Item", "n", "N"), fmt.Sprint(committed.Load()); got != want {
			t.Errorf("counter %s = %v after %s committed transactions", pk, got, want)
		}
	}
	st, err := ReadStatus(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if st.ServerErrors != 0 || st.Requests < 200 {
		t.Errorf("status %+v: want no server errors after at least 200 requests", st)
	}
}

func mustOK(status int, body any) any {
	if status != 200 {
		panic(fmt.Sprintf("status %d: %v", status, body))
	}
	return body
}

// TestStatusCountsServerErrors checks that the launcher's status counts the
// requests and the 5xx answers: moto answers a GetRecords whose shard iterator
// is not base64 with a 500.
func TestStatusCountsServerErrors(t *testing.T) {
	_, srv := startPair(t)
	before, err := ReadStatus(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	send := func(target, body string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20261206/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := send("Kinesis_20131202.ListStreams", "{}"); st != 200 {
		t.Fatalf("ListStreams: %d", st)
	}
	if st := send("Kinesis_20131202.GetRecords", `{"ShardIterator":"%%%"}`); st != 500 {
		t.Fatalf("GetRecords with a broken iterator: %d, want moto's 500", st)
	}
	after, err := ReadStatus(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got := after.Requests - before.Requests; got != 2 {
		t.Errorf("status counts %d requests, want 2", got)
	}
	if got := after.ServerErrors - before.ServerErrors; got != 1 {
		t.Errorf("status counts %d server errors, want 1", got)
	}
	if after.PID <= 0 || after.Moto == "" {
		t.Errorf("status %+v", after)
	}
}

// TestReshardDiffersFromStock: the launcher's fix 7 changes moto's resharding
// on purpose. After a split, stock moto puts the parent's records again through
// its hash key lookup, which finds the closed parent first, so they and a
// record put after the split land in the closed parent (renumbered), and it
// keeps answering a NextShardIterator for the closed parent; the patched
// server, as Kinesis, keeps the parent's records as they were, writes the new
// record to a child and ends the parent with a null NextShardIterator.
func TestReshardDiffersFromStock(t *testing.T) {
	stock, patched := startPair(t)
	const k = "Kinesis_20131202."
	type result struct {
		parent, children int
		parentEnded      bool
	}
	run := func(url string) result {
		mustOK(call(t, url, "kinesis", k+"CreateStream", map[string]any{"StreamName": "s", "ShardCount": 1}))
		for i := range 5 {
			mustOK(call(t, url, "kinesis", k+"PutRecord", map[string]any{"StreamName": "s", "PartitionKey": fmt.Sprintf("p%d", i), "Data": "eA=="}))
		}
		mustOK(call(t, url, "kinesis", k+"SplitShard", map[string]any{"StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "170141183460469231731687303715884105728"}))
		mustOK(call(t, url, "kinesis", k+"PutRecord", map[string]any{"StreamName": "s", "PartitionKey": "after", "Data": "eA=="}))
		var r result
		for _, shard := range []string{"shardId-000000000000", "shardId-000000000001", "shardId-000000000002"} {
			it := field(mustOK(call(t, url, "kinesis", k+"GetShardIterator", map[string]any{"StreamName": "s", "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"})), "ShardIterator")
			for range 3 {
				out := mustOK(call(t, url, "kinesis", k+"GetRecords", map[string]any{"ShardIterator": it, "Limit": 10}))
				n, _ := field(out, "Records").([]any)
				if shard == "shardId-000000000000" {
					r.parent += len(n)
				} else {
					r.children += len(n)
				}
				it = field(out, "NextShardIterator")
				if it == nil {
					if shard == "shardId-000000000000" {
						r.parentEnded = true
					}
					break
				}
			}
		}
		return r
	}
	if got, want := run(stock.URL), (result{parent: 6, children: 0}); got != want {
		t.Errorf("stock moto after a split = %+v; want %+v (every record in the closed parent, which never ends): has moto changed?", got, want)
	}
	if got, want := run(patched.URL), (result{parent: 5, children: 1, parentEnded: true}); got != want {
		t.Errorf("patched moto after a split = %+v; want %+v (as Kinesis: the parent keeps its records and ends, the new record goes to a child)", got, want)
	}
}

// TestForTestRefusesUnpatchedMoto: the shared test server must run the
// launcher's fixes; one that runs moto unpatched (another moto version on the
// PATH) is stopped and refused with a message that names the version.
func TestForTestRefusesUnpatchedMoto(t *testing.T) {
	stock, patched := startPair(t)
	MarkIntegration(t, patched.URL)
	if err := patchedForTests(patched); err != nil {
		t.Fatalf("patched server refused: %v", err)
	}
	err := patchedForTests(stock)
	if err == nil || !strings.Contains(err.Error(), "runs moto 5.") || !strings.Contains(err.Error(), "make venv-emulator") {
		t.Fatalf("unpatched server: error %v; want one naming its moto version and how to get the pinned one", err)
	}
	if Alive(stock.URL) {
		t.Fatal("the refused server still answers")
	}
}

// sqsRaceScript interleaves, deterministically, what two SQS requests of one
// queue do at once: a message whose group_id, read while ReceiveMessage
// collects the groups in flight, removes another in-flight message (as a
// concurrent DeleteMessage would), and a message removed from the in-flight
// set after another request removed it. It prints one line per case: "ok" or
// the exception.
const sqsRaceScript = `
import importlib.util, sys
spec = importlib.util.spec_from_file_location("launcher", sys.argv[1])
launcher = importlib.util.module_from_spec(spec)
spec.loader.exec_module(launcher)
if sys.argv[2] == "patched" and not launcher.apply_patches():
    sys.exit("patches not applied")
from moto.sqs.models import Queue

q = Queue("q", "us-east-1", "123456789012")

class Msg:
    def __init__(self, other=None):
        self.other = other
    @property
    def group_id(self):
        if self.other is not None:
            q.pending_messages.discard(self.other)
        return None

b = Msg()
q.pending_messages.add(Msg(other=b))
q.pending_messages.add(b)
for case in ("groups", "remove"):
    try:
        if case == "groups":
            q.pending_message_groups
        else:
            m = Msg()
            q.pending_messages.add(m)
            q.pending_messages.remove(m)
            q.pending_messages.remove(m)
        print(case, "ok")
    except Exception as e:
        print(case, type(e).__name__, e)
`

// launcherPython returns moto server's Python interpreter and the launcher's
// path, for tests that run Python against the launcher's module directly.
func launcherPython(t *testing.T) (py, launcher string) {
	t.Helper()
	bin, err := Binary()
	if err == nil {
		py = interpreter(bin)
	}
	if py == "" {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("needs moto server's Python (%v)", err)
		}
		t.Skipf("needs moto server's Python (%v); run `make test`", err)
	}
	launcher, err = launcherPath()
	if err != nil {
		t.Fatal(err)
	}
	return py, launcher
}

// TestLauncherSQSInFlightRaces: fix 8. Stock moto fails both interleavings
// (which is what a concurrent DeleteMessage or ReceiveMessage does to a
// ReceiveMessage, a 500); the patched classes answer.
func TestLauncherSQSInFlightRaces(t *testing.T) {
	py, launcher := launcherPython(t)
	run := func(mode string) string {
		out, err := exec.Command(py, "-c", sqsRaceScript, launcher, mode).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", mode, err, out)
		}
		return string(out)
	}
	if got, want := run("patched"), "groups ok\nremove ok\n"; got != want {
		t.Errorf("patched:\n%s\nwant:\n%s", got, want)
	}
	stock := run("stock")
	if !strings.Contains(stock, "groups RuntimeError") || !strings.Contains(stock, "remove KeyError") {
		t.Errorf("stock moto did not fail as fix 8 says it does:\n%s", stock)
	}
}

// TestDynamoDBNumberArithmeticDiffersFromStock: an update expression's sums are
// exact to DynamoDB's 38 significant digits, work on a number moto's own sums
// wrote in exponent form, and come back in plain notation, as DynamoDB's do;
// stock moto rounds to 28 digits and fails with a 500 on such a number.
func TestDynamoDBNumberArithmeticDiffersFromStock(t *testing.T) {
	stock, patched := startPair(t)
	const d = "DynamoDB_20120810."
	type result struct {
		status       int    // of the last update
		sum, tiny    string // the attributes after the updates
		diff, negDif string
		overflow     int // the status of a sum above DynamoDB's range
	}
	run := func(url string) result {
		mustOK(call(t, url, "dynamodb", d+"CreateTable", map[string]any{"TableName": "t", "BillingMode": "PAY_PER_REQUEST",
			"KeySchema":            []any{map[string]any{"AttributeName": "id", "KeyType": "HASH"}},
			"AttributeDefinitions": []any{map[string]any{"AttributeName": "id", "AttributeType": "S"}}}))
		key := map[string]any{"id": map[string]any{"S": "k"}}
		update := func(expr string, v string) int {
			status, _ := call(t, url, "dynamodb", d+"UpdateItem", map[string]any{"TableName": "t", "Key": key,
				"UpdateExpression": expr, "ExpressionAttributeValues": map[string]any{":v": map[string]any{"N": v}}})
			return status
		}
		var r result
		for range 2 {
			update("ADD s :v", "999999999838.990000150000000040001")
			update("SET d = if_not_exists(d, :v) - :v", "1.5E2")
		}
		for range 3 {
			r.status = update("ADD tiny :v", "0.000000000000000000001")
		}
		update("SET e = :v", "-7")
		update("SET e = e - :v", "-7.000")
		r.overflow = update("SET big = :v + :v", "9.9E+125")
		out := mustOK(call(t, url, "dynamodb", d+"GetItem", map[string]any{"TableName": "t", "Key": key, "ConsistentRead": true}))
		item, _ := field(out, "Item").(map[string]any)
		num := func(attr string) string {
			v, _ := item[attr].(map[string]any)
			s, _ := v["N"].(string)
			return s
		}
		r.sum, r.tiny, r.diff, r.negDif = num("s"), num("tiny"), num("d"), num("e")
		return r
	}
	if got, want := run(stock.URL), (result{status: 500, sum: "1999999999677.980000300000000", tiny: "1E-21", diff: "0E+1", negDif: "0.000", overflow: 200}); got != want {
		t.Errorf("stock moto = %+v; want %+v (28 digits, exponent forms, a 500 on 1E-21): has moto changed?", got, want)
	}
	if got, want := run(patched.URL), (result{status: 200, sum: "1999999999677.980000300000000080002", tiny: "0.000000000000000000003", diff: "-150", negDif: "0", overflow: 400}); got != want {
		t.Errorf("patched moto = %+v; want %+v (exact to 38 digits, plain notation, as DynamoDB)", got, want)
	}
}

// TestTransactWriteTokenDiffersFromStock: fix 10. A TransactWriteItems sent again
// with the ClientRequestToken of a call that succeeded (what the SDK does when
// the answer was lost) answers 200 without running again, as DynamoDB does;
// stock moto ignores the token and runs it again: a version-checked
// transaction is then cancelled and an unconditional one applied twice. The
// same token with other items is IdempotentParameterMismatchException; another
// token runs the transaction again.
func TestTransactWriteTokenDiffersFromStock(t *testing.T) {
	stock, patched := startPair(t)
	const d = "DynamoDB_20120810."
	type result struct {
		versioned, resent, otherItems string // each call's status and error
		counter, resentCounter, other string
		a, b, c                       string // the counters afterwards
	}
	run := func(url string) result {
		mustOK(call(t, url, "dynamodb", d+"CreateTable", map[string]any{"TableName": "t", "BillingMode": "PAY_PER_REQUEST",
			"KeySchema":            []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}},
			"AttributeDefinitions": []any{map[string]any{"AttributeName": "pk", "AttributeType": "S"}}}))
		tx := func(body string) string {
			status, out := call(t, url, "dynamodb", d+"TransactWriteItems", json.RawMessage(body))
			if status == 200 {
				return "200"
			}
			typ, _ := field(out, "__type").(string)
			return fmt.Sprintf("%d %s", status, typ[strings.LastIndex(typ, "#")+1:])
		}
		// As the aggregator's: a version condition and an ADD.
		const versioned = `{"ClientRequestToken":"tok-1","TransactItems":[{"Update":{"TableName":"t","Key":{"pk":{"S":"a"}},` +
			`"UpdateExpression":"SET v = :new ADD n :one","ConditionExpression":"attribute_not_exists(v) OR v = :old",` +
			`"ExpressionAttributeValues":{":old":{"N":"0"},":new":{"N":"1"},":one":{"N":"1"}}}}]}`
		// The same request with its members in another order, as the SDK may
		// serialize a resend (the order of a JSON object's members means nothing).
		const versionedAgain = `{"TransactItems":[{"Update":{"ExpressionAttributeValues":{":one":{"N":"1"},":new":{"N":"1"},":old":{"N":"0"}},` +
			`"ConditionExpression":"attribute_not_exists(v) OR v = :old","UpdateExpression":"SET v = :new ADD n :one",` +
			`"Key":{"pk":{"S":"a"}},"TableName":"t"}}],"ClientRequestToken":"tok-1"}`
		const otherItems = `{"ClientRequestToken":"tok-1","TransactItems":[{"Update":{"TableName":"t","Key":{"pk":{"S":"b"}},` +
			`"UpdateExpression":"ADD n :one","ExpressionAttributeValues":{":one":{"N":"1"}}}}]}`
		counter := func(token string) string {
			return `{"ClientRequestToken":"` + token + `","TransactItems":[{"Update":{"TableName":"t","Key":{"pk":{"S":"c"}},` +
				`"UpdateExpression":"ADD n :one","ExpressionAttributeValues":{":one":{"N":"1"}}}}]}`
		}
		var r result
		r.versioned = tx(versioned)
		r.resent = tx(versionedAgain)
		r.otherItems = tx(otherItems)
		r.counter = tx(counter("tok-2"))
		r.resentCounter = tx(counter("tok-2"))
		r.other = tx(counter("tok-3"))
		n := func(pk string) string {
			out := mustOK(call(t, url, "dynamodb", d+"GetItem", map[string]any{"TableName": "t", "Key": map[string]any{"pk": map[string]any{"S": pk}}, "ConsistentRead": true}))
			s, _ := field(out, "Item", "n", "N").(string)
			return s
		}
		r.a, r.b, r.c = n("a"), n("b"), n("c")
		return r
	}
	if got, want := run(stock.URL), (result{versioned: "200", resent: "400 TransactionCanceledException", otherItems: "200",
		counter: "200", resentCounter: "200", other: "200", a: "1", b: "1", c: "3"}); got != want {
		t.Errorf("stock moto = %+v; want %+v (the token ignored): has moto changed?", got, want)
	}
	if got, want := run(patched.URL), (result{versioned: "200", resent: "200", otherItems: "400 IdempotentParameterMismatchException",
		counter: "200", resentCounter: "200", other: "200", a: "1", b: "", c: "2"}); got != want {
		t.Errorf("patched moto = %+v; want %+v (as DynamoDB: a resend with the same token is not run again)", got, want)
	}
}

// transactTokenScript drives fix 10 with a clock of its own (in-process moto,
// boto3): a token is remembered for 600 s from its call's answer and then
// forgotten, a cancelled call's token is not remembered (the same call runs
// again, other items with it are no mismatch), and the tokens kept are bounded.
// It prints one line per case.
const transactTokenScript = `
import importlib.util, sys
spec = importlib.util.spec_from_file_location("launcher", sys.argv[1])
launcher = importlib.util.module_from_spec(spec)
spec.loader.exec_module(launcher)
if not launcher.apply_patches():
    sys.exit("patches not applied")
now = [1000.0]
launcher._clock = lambda: now[0]
import boto3, botocore
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends

with mock_aws():
    c = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    c.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    def tx(token, pk, cond=None):
        u = {"TableName": "t", "Key": {"pk": {"S": pk}}, "UpdateExpression": "ADD n :one",
             "ExpressionAttributeValues": {":one": {"N": "1"}}}
        if cond:
            u["ConditionExpression"] = cond
        try:
            c.transact_write_items(ClientRequestToken=token, TransactItems=[{"Update": u}])
            return "200"
        except botocore.exceptions.ClientError as e:
            return e.response["Error"]["Code"]
    def n(pk):
        return c.get_item(TableName="t", Key={"pk": {"S": pk}}).get("Item", {}).get("n", {}).get("N", "-")
    print("first", tx("w", "a"), n("a"))
    now[0] += 599.9
    print("within", tx("w", "a"), n("a"))
    now[0] += 0.1
    print("after", tx("w", "a"), n("a"))
    print("cancelled", tx("x", "b", "attribute_exists(pk)"), n("b"))
    print("again", tx("x", "b"), n("b"))
    print("cancelled", tx("y", "c", "attribute_exists(pk)"), n("c"))
    print("other items", tx("y", "d"), n("d"))
    tokens = dynamodb_backends["123456789012"]["us-east-1"].transact_write_tokens
    now[0] += 600
    tx("z", "e")
    print("kept after the window", len(tokens))
    launcher.TRANSACT_TOKEN_LIMIT = 3
    for i in range(5):
        tx("bound-%d" % i, "f")
    print("kept at most", len(tokens), sorted(tokens))
`

// TestTransactWriteTokenWindow: fix 10's window, its failed calls and its bound.
func TestTransactWriteTokenWindow(t *testing.T) {
	py, launcher := launcherPython(t)
	out, err := exec.Command(py, "-c", transactTokenScript, launcher).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := `first 200 1
within 200 1
after 200 2
cancelled TransactionCanceledException -
again 200 1
cancelled TransactionCanceledException -
other items 200 1
kept after the window 1
kept at most 3 ['bound-2', 'bound-3', 'bound-4']
`
	if got := string(out); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
