"""Run moto server with fixes for its hot spots, applied at start-up.

Usage: python launcher.py [moto_server options, e.g. -H 127.0.0.1 -p 5000]

moto 5.2.5 answers correctly but some of its calls cost time proportional to
everything the service holds, and some of its state is read and written from
several request threads at once. This module replaces the methods concerned
before it runs moto's own server (moto.server.main), without changing any
response, except fixes 7, 9 and 10, which make resharding, DynamoDB's sums and
TransactWriteItems' ClientRequestToken behave as AWS does. Each fix is small and
self-contained, so that it can be proposed upstream as it is:

1. DynamoDB TransactWriteItems (DynamoDBBackend.transact_write_items) took a
   deep copy of a whole table once per action of the transaction, to restore it
   if an action fails: 13 copies for an aggregator transaction of 13 actions, so
   a transaction costs time proportional to the table. The fix keeps a journal
   of what the transaction touches instead (the prior state of each item it
   writes and of the item's partition), and restores exactly that on failure:
   the tables end in the same state (moto sorts what Scan and Query return by
   key, so a restored item's place in its table's dict is not observable; a
   partition's own order is restored too). Tables with a stream
   keep the stock code (their stream shard would need restoring too).
2. Kinesis Shard.get_max_sequence_number / get_min_sequence_number built the
   list of all the shard's sequence numbers to take its last / first one, on
   every PutRecord(s) record: puts slowed down as the shard grew. The fix reads
   the ends of the ordered dict.
3. Kinesis Shard.get_records scanned the shard from its first record on every
   GetRecords call. A shard's sequence numbers are consecutive integers in
   insertion order (put_record assigns last + 1; with fix 7 resharding leaves
   a parent's dict as it was and starts children empty), so the fix starts at the record after the iterator's
   position; if a shard ever breaks that invariant, the stock scan runs.
4. Thread safety: the server runs each request in a thread, while moto's
   Kinesis and DynamoDB backends are not written for concurrent access
   ("OrderedDict mutated during iteration" from a GetRecords iterating a shard
   that a PutRecords extends; a TransactWriteItems interleaved with other writes,
   not isolated as DynamoDB transactions are, and "dictionary changed size during
   iteration" from copying a table another request writes). The fix runs the
   requests of each of these two services one at a time (a lock per service
   around the handler's call_action, which also covers serialising the
   response). S3 and SQS are left concurrent: SQS long polls wait inside the
   handler.
5. DynamoDB parsed every UpdateExpression twice per action of a transaction
   (once to check the names it uses, once to apply it) and once per UpdateItem,
   though the aggregator sends the same few expression shapes again and again.
   The fix memoizes UpdateExpressionParser.make by expression string (bounded,
   least recently used out). The parsed tree is only read (find_clauses) or
   deep-copied before anything changes it (the validators copy it first; the
   executor normalizes the validated copy), so sharing it is safe; an expression
   that fails to parse raises as before and is not cached.
6. Memory: a thread returns freed heap pages to the system (glibc malloc_trim)
   after a burst of work, so that an idle emulator holds what its data needs.
7. Kinesis resharding as Kinesis Data Streams does it. Unlike 1-6, this fix
   changes answers, on purpose: moto 5.2.5 departs from Kinesis in four points,
   and without the fix a resharded stream holds records twice or loses their
   order, so no reader, AWS's or this project's, could be exact.
   a. SplitShard emptied the parent and put its records again through the
      stream's hash key lookup (new sequence numbers; with c, they land in the
      closed parent again or, in other layouts, in a child). Kinesis keeps them
      in the parent as they were, readable until they expire, and the children
      start empty.
   b. MergeShards copied both parents' records into the child. Kinesis does not.
   c. PutRecord(s) looked a hash key up among all shards, closed parents
      included (and missed a shard's EndingHashKey itself). Kinesis writes only
      to open shards; a hash key range includes both ends.
   d. GetRecords on a closed shard read to its end kept returning a
      NextShardIterator. Kinesis returns none: the reader's cue that the shard
      ended and its children can be read.
   Sources: UpdateShardCount / SplitShard / MergeShards / GetRecords API
   references (https://docs.aws.amazon.com/kinesis/latest/APIReference/) and
   "Handle data after resharding"
   (https://docs.aws.amazon.com/streams/latest/dev/kinesis-using-sdk-java-after-resharding.html).
   The fix restores each shard's records after moto's split/merge (a copy
   taken before; the parent keeps its dict in the same order, so 2 and 3 still
   see consecutive sequence numbers, and the min/max of 2 are read from the
   dict's ends, never cached, so they stay right), empties the new shards, and
   ends a closed shard at an empty read at or past its last sequence number.

8. SQS requests of one queue race each other (SQS stays concurrent, see 4):
   ReceiveMessage builds the set of the message groups in flight with a set
   comprehension over the queue's in-flight messages, which fails ("Set changed
   size during iteration", a 500) when another ReceiveMessage or a DeleteMessage
   changes that set meanwhile; and it, like ChangeMessageVisibility, removes a
   message from the set after checking that it is there, which fails with a
   KeyError when another request removed it in between. A 500 after some
   messages were marked received hides them for their visibility timeout. Seen
   2 times in 60 s of 24 concurrent clients sending and receiving on one queue.
   The fix builds the groups from a copy of the set made in one step (copying a
   set is one C call, which no other Python thread interrupts) and makes a
   queue's in-flight set's remove not fail for a message already gone, which
   is what the check before it meant. The answers are moto's.

9. DynamoDB number arithmetic (an update expression's ADD, and SET a = a + :v or
   a - :v) reads an operand without a "." with int(), so a stored number in
   exponent form fails the next addition with a 500 ("invalid literal for
   int()"); moto's own sums write that form for small values (str of
   Decimal("0.000000000000000000001") is "1E-21"). It adds Decimals with
   Python's default precision of 28 digits, where DynamoDB keeps 38 significant
   digits (999999999838.990000150000000040001 doubled lost its last eight), and
   returns the sum as Python writes it, where DynamoDB returns numbers
   normalized, without an exponent or trailing zeros (1.5E2 is 150). The fix
   adds exactly, refuses a result DynamoDB cannot store (more than 38
   significant digits, or a magnitude outside 1E-130 to under 1E+126) with
   DynamoDB's ValidationException, and writes the result plain. (Numbers put or
   SET as given are still returned as written: only sums are normalized.) Sources: "Number" in the DynamoDB data types
   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html);
   the normalization recorded against DynamoDB in ExtendDB/extenddb#7.

10. DynamoDB TransactWriteItems ignored its ClientRequestToken, so a call sent
   again with the token of a transaction that committed ran again: the AWS SDKs
   set a token on every call and resend it when an answer is lost, and moto then
   cancelled a version-checked transaction (ConditionalCheckFailed) or applied an
   unconditional one twice, where DynamoDB answers success without doing anything.
   Like 7 and 9, this fix changes answers, on purpose. It remembers the token of a
   call that succeeded for 10 minutes from its answer (per account and Region);
   within them the same token with the same parameters answers 200 and changes
   nothing, and with other parameters answers 400
   IdempotentParameterMismatchException; after them the token is new again.
   Parameters are compared canonically: the request without its token, the
   order of JSON object members ignored, lists in order (stored as a SHA-256
   digest). The token of a call that failed (cancelled, invalid) is not
   remembered: a resend runs, and other parameters with that token are no
   mismatch. DynamoDB documents only the successful case ("If the original
   TransactWriteItems call was successful, then subsequent TransactWriteItems
   calls with the same client token return successfully without making any
   changes"); this is a choice, and a resend of a cancelled call is then what it
   would have been without the token. The error's message is the API
   reference's description of the error (no recording of DynamoDB's own text
   was found). Memory: tokens older than 10 minutes are dropped at the next call
   with a token, and at most TRANSACT_TOKEN_LIMIT (about 300 bytes each) are
   kept, the oldest dropped first. One lock covers the check, the call and the
   record, so a concurrent call with the same token waits and then answers from
   the record. Sources: TransactWriteItems, ClientRequestToken, in the DynamoDB
   API reference
   (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html)
   and "Idempotency" in the developer guide's "Amazon DynamoDB Transactions: How
   it works" (transaction-apis.html); a resend with the same token and members
   in another order answered 200 in LocalStack's AWS recording
   test_dynamodb_idempotent_writing
   (tests/aws/services/dynamodb/test_dynamodb.snapshot.json, localstack/localstack
   8b9a79f).

The fixes are applied only to moto 5.2.5, whose code they were written against;
with another version the launcher prints a warning and runs moto unpatched.
Set STREAMLAKE_MOTO_STOCK=1 to run moto unpatched (for comparisons).
"""

import copy
import ctypes
import ctypes.util
import decimal
import functools
import gc
import os
import sys
import threading
import time

PATCHED_VERSION = "5.2.5"


def _journal_transact_write_items(self, transact_items):
    """DynamoDBBackend.transact_write_items with an undo journal instead of
    whole-table copies. Identical to moto 5.2.5's method except for the lines
    marked "journal"."""
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.comparisons import get_filter_expression

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    for item in transact_items:
        _, op = next(iter(item.items()))
        table_name = op.get("TableName")
        if table_name and table_name in self.tables:
            if self.tables[table_name].stream_shard is not None:
                # A table with a stream: the stock method restores the stream too.
                return _STOCK["transact_write_items"](self, transact_items)

    # journal: {(table name, hash key): (table, hash entry existed, partition
    # before, {range key: item copy before})}. The partition before is a deep copy
    # of the item for a table without a range key, else a shallow copy of the
    # range key -> item dict (its order, and the untouched items).
    journal = {}

    def remember(table_name, key):
        if table_name not in self.tables:
            return
        table = self.tables[table_name]
        if table.hash_key_attr not in key:
            return
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = None
        if table.range_key_attr is not None:
            if table.range_key_attr not in key:
                return
            range_value = DynamoType(key[table.range_key_attr])
        jk = (table_name, hash_value)
        if jk not in journal:
            existed = hash_value in table.items
            before = table.items.get(hash_value)
            if before is not None:
                if table.range_key_attr is not None:
                    before = dict(before)
                else:
                    before = copy.deepcopy(before)
            journal[jk] = (table, existed, before, {})
        _, _, _, items = journal[jk]
        if table.range_key_attr is not None and range_value not in items:
            current = table.items.get(hash_value, {}).get(range_value)
            items[range_value] = copy.deepcopy(current)

    def rollback():
        for (_, hash_value), (table, existed, before, items) in journal.items():
            if not existed:
                table.items.pop(hash_value, None)
            elif table.range_key_attr is None:
                table.items[hash_value] = before
            else:
                table.items[hash_value] = {
                    rv: items[rv] if rv in items else item for rv, item in before.items()
                }

    target_items = set()

    def check_unicity(table_name, key):
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors = []  # [(Code, Message, Item), ..]
    for item in transact_items:
        original_item = None
        # Check transact writes are not performing multiple operations on the same item
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException

        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")

            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            expression_attribute_names = op.get("ExpressionAttributeNames")
            expression_attribute_values = op.get("ExpressionAttributeValues")
            return_values_on_condition_check_failure = op.get(
                "ReturnValuesOnConditionCheckFailure"
            )

            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]

            check_unicity(table_name, key)
            remember(table_name, key)  # journal

            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition_op = get_filter_expression(
                    condition_expression,
                    expression_attribute_names,
                    expression_attribute_values,
                )
                if not condition_op.expr(current):
                    if (
                        return_values_on_condition_check_failure == "ALL_OLD"
                        and current
                    ):
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)

            if op_type == "Put":
                attrs = op["Item"]
                self.put_item(
                    table_name,
                    attrs,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Update":
                update_expression = op["UpdateExpression"]
                self.update_item(
                    table_name,
                    key,
                    update_expression=update_expression,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            # Rollback to the original state, and reraise the error
            rollback()  # journal
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))
        except Exception as e:  # noqa: E722 Do not use bare except
            # For other exceptions, capture their details
            errors.append((type(e).__name__, str(e), original_item))

    if any(code is not None for code, _, _ in errors):
        # Rollback to the original state, and reraise the errors
        rollback()  # journal
        raise TransactionCanceledException(errors)


def _shard_get_min_sequence_number(self):
    if self.records:
        return next(iter(self.records))
    return 0


def _shard_get_max_sequence_number(self):
    if self.records:
        return next(reversed(self.records))
    return 0


def _shard_get_sequence_number_at(self, at_timestamp):
    records = self.records
    if records and at_timestamp > records[next(iter(records))].created_at:
        # Past the first record: the stock backwards search, which is cheap for
        # recent timestamps.
        r = next(
            (r for r in reversed(records.values()) if r.created_at < at_timestamp),
            None,
        )
        return r.sequence_number
    return 0


def _shard_get_records(self, last_sequence_id, limit):
    records = self.records
    if not records or limit is None or limit < 1:
        return _STOCK["get_records"](self, last_sequence_id, limit)
    first = next(iter(records))
    last = next(reversed(records))
    if last - first + 1 != len(records):
        # Not consecutive: the stock scan.
        return _STOCK["get_records"](self, last_sequence_id, limit)
    last_sequence_int = int(last_sequence_id)
    results = []
    secs_behind_latest = 0
    very_last_record = records[last]
    for sequence_number in range(max(last_sequence_int + 1, first), last + 1):
        record = records[sequence_number]
        results.append(record)
        last_sequence_int = sequence_number
        secs_behind_latest = very_last_record.created_at - record.created_at
        if len(results) == limit:
            break
    millis_behind_latest = int(secs_behind_latest * 1000)
    return results, last_sequence_int, millis_behind_latest


def _keep_parent_records(stock):
    """Stream.split_shard / merge_shards, then every shard that existed before
    gets its records back and the new shards start empty (fix 7a, 7b)."""

    @functools.wraps(stock)
    def reshard(self, *args, **kwargs):
        from collections import OrderedDict

        saved = {sid: OrderedDict(shard.records) for sid, shard in self.shards.items()}
        stock(self, *args, **kwargs)
        for sid, shard in self.shards.items():
            shard.records = saved[sid] if sid in saved else OrderedDict()

    return reshard


def _stream_get_shard_for_key(self, partition_key, explicit_hash_key):
    """Stream.get_shard_for_key among open shards only, hash key ranges
    inclusive at both ends (fix 7c); the argument checks are moto's."""
    from moto.kinesis.exceptions import InvalidArgumentError
    from moto.utilities.utils import md5_hash

    if not isinstance(partition_key, str):
        raise InvalidArgumentError("partition_key")
    if len(partition_key) > 256:
        raise InvalidArgumentError("partition_key")
    if explicit_hash_key:
        if not isinstance(explicit_hash_key, str):
            raise InvalidArgumentError("explicit_hash_key")
        int_key = int(explicit_hash_key)
        if int_key >= 2**128:
            raise InvalidArgumentError("explicit_hash_key")
    else:
        int_key = int(md5_hash(partition_key.encode("utf-8")).hexdigest(), 16)
    for shard in self.shards.values():
        if shard.is_open and shard.starting_hash <= int_key <= shard.ending_hash:
            return shard
    return None


def _backend_get_records(self, stream_arn, shard_iterator, limit):
    """KinesisBackend.get_records: moto's, plus no NextShardIterator for a
    closed shard read to its end (fix 7d)."""
    from moto.kinesis.utils import compose_shard_iterator, decompose_shard_iterator

    stream_name, shard_id, last_sequence_id = decompose_shard_iterator(shard_iterator)
    stream = self.describe_stream(stream_arn=stream_arn, stream_name=stream_name)
    shard = stream.get_shard(shard_id)
    records, last_sequence_id, millis_behind_latest = shard.get_records(
        last_sequence_id, limit
    )
    if not shard.is_open and not records and int(last_sequence_id) >= shard.get_max_sequence_number():
        return None, records, millis_behind_latest
    next_shard_iterator = compose_shard_iterator(stream_name, shard, last_sequence_id)
    return next_shard_iterator, records, millis_behind_latest


_STOCK = {}

UPDATE_EXPRESSION_CACHE_SIZE = 4096


def _cached_update_expression_make(stock_make):
    from collections import OrderedDict

    cache = OrderedDict()
    lock = threading.Lock()

    def make(cls, expression_str):
        with lock:
            ast = cache.get(expression_str)
            if ast is not None:
                cache.move_to_end(expression_str)
                return ast
        ast = stock_make(expression_str)
        with lock:
            cache[expression_str] = ast
            if len(cache) > UPDATE_EXPRESSION_CACHE_SIZE:
                cache.popitem(last=False)
        return ast

    return classmethod(make)


class _InFlight(set):
    """A queue's in-flight messages: remove, like discard, accepts a message
    that another request removed already (fix 8)."""

    def remove(self, message):
        self.discard(message)


def _queue_init(stock):
    @functools.wraps(stock)
    def init(self, *args, **kwargs):
        stock(self, *args, **kwargs)
        self._pending_messages = _InFlight(self._pending_messages)

    return init


def _purge_queue(stock):
    @functools.wraps(stock)
    def purge(self, queue_name):
        stock(self, queue_name)
        queue = self.get_queue(queue_name)
        queue._pending_messages = _InFlight(queue._pending_messages)

    return purge


def _queue_pending_message_groups(self):
    return {m.group_id for m in frozenset(self._pending_messages) if m.group_id is not None}


def _serialized(method, lock):
    @functools.wraps(method)
    def call_action(self, *args, **kwargs):
        with lock:
            return method(self, *args, **kwargs)

    return call_action


def _trim_memory_loop(interval):
    """Return freed heap to the system after work: gc, then malloc_trim(0)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        trim = libc.malloc_trim if libc is not None else None
    except (OSError, AttributeError):
        trim = None
    if trim is None:
        return
    last = None
    while True:
        time.sleep(interval)
        # Only after the heap changed since the last trim (the count of gc's
        # tracked objects is a cheap proxy).
        n = gc.get_count()
        if n == last:
            continue
        gc.collect()
        trim(0)
        last = gc.get_count()


# Exact for any two DynamoDB numbers (1E-130 to under 1E+126, 38 digits each).
_EXACT = decimal.Context(prec=300, Emax=999, Emin=-999, traps=[decimal.Inexact, decimal.Overflow, decimal.Underflow])


def _dynamo_number(value):
    """A DynamoDB number's text as a Decimal, whatever its notation."""
    return _EXACT.create_decimal(value)


def _dynamo_number_text(d):
    """d as DynamoDB writes a number: plain notation, no trailing zeros, no -0;
    a ValidationException for a number DynamoDB cannot store (more than 38
    significant digits, or a magnitude outside its range)."""
    from moto.dynamodb.exceptions import MockValidationException

    if d.is_zero():
        return "0"
    d = d.normalize(_EXACT)
    if d.adjusted() < -130:
        raise MockValidationException(
            "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        )
    if d.adjusted() > 125 or len(d.as_tuple().digits) > 38:
        # DynamoDB says this of a result of more than 38 significant digits too.
        raise MockValidationException(
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        )
    return format(d, "f")


def _dynamo_arithmetic(sign):
    def op(self, other):
        from moto.dynamodb.models.dynamo_type import DDBType, DynamoType

        if self.type != other.type:
            raise TypeError("Different types of operandi is not allowed.")
        if not self.is_number():
            if sign > 0:
                from moto.dynamodb.exceptions import IncorrectDataType

                raise IncorrectDataType()
            raise TypeError("Sum only supported for Numbers.")
        a, b = _dynamo_number(self.value), _dynamo_number(other.value)
        total = _EXACT.add(a, b) if sign > 0 else _EXACT.subtract(a, b)
        return DynamoType({DDBType.NUMBER: _dynamo_number_text(total)})

    return op


# Fix 10: TransactWriteItems' ClientRequestToken, as DynamoDB keeps it.
TRANSACT_TOKEN_WINDOW = 600.0  # seconds a successful call's token is remembered
TRANSACT_TOKEN_LIMIT = 100_000  # tokens kept at most (oldest out), about 30 MB
_clock = time.monotonic


def _canonical(value):
    """A request's parameters as one value that does not depend on the order of
    JSON object members: maps sorted by key, lists (and sets) in order."""
    if isinstance(value, dict):
        return ("M", tuple(sorted((k, _canonical(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return ("L", tuple(_canonical(v) for v in value))
    return value


def _transact_digest(body):
    """The digest of a TransactWriteItems request's parameters, the token left out."""
    import hashlib

    params = {k: v for k, v in body.items() if k != "ClientRequestToken"}
    return hashlib.sha256(repr(_canonical(params)).encode()).digest()


def _idempotent_transact_write_items(stock):
    """DynamoHandler.transact_write_items honouring ClientRequestToken (fix 10):
    the token of a call that succeeded is remembered for TRANSACT_TOKEN_WINDOW
    seconds from its answer, per account and Region (the backend); the same token
    with the same parameters then answers success without running again, with
    other parameters IdempotentParameterMismatchException. A call that fails is
    not remembered. One lock covers the check, the call and the record, so a
    concurrent call with the same token waits and then answers from the record."""
    from collections import OrderedDict

    lock = threading.Lock()

    @functools.wraps(stock)
    def transact_write_items(self):
        from moto.core.responses import ActionResult
        from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException

        token = self.body.get("ClientRequestToken")
        if not token:
            return stock(self)
        digest = _transact_digest(self.body)
        backend = self.dynamodb_backend
        with lock:
            # {token: (digest, when answered)}, oldest first.
            tokens = backend.__dict__.setdefault("transact_write_tokens", OrderedDict())
            now = _clock()
            while tokens and now - next(iter(tokens.values()))[1] >= TRANSACT_TOKEN_WINDOW:
                tokens.popitem(last=False)
            seen = tokens.get(token)
            if seen is not None:
                if seen[0] != digest:
                    raise DynamodbException(
                        ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException",
                        "DynamoDB rejected the request because you retried a request with a "
                        "different payload but with an idempotent token that was already used.",
                    )
                # moto's answer to every successful transaction.
                return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
            result = stock(self)  # raises if the transaction fails: nothing recorded
            tokens[token] = (digest, _clock())
            if len(tokens) > TRANSACT_TOKEN_LIMIT:
                tokens.popitem(last=False)
            return result

    return transact_write_items


def apply_patches():
    """Apply the fixes to moto's classes; returns False if the installed moto is
    not the version they were written against."""
    import moto

    if moto.__version__ != PATCHED_VERSION:
        print(
            f"streamlake moto launcher: moto {moto.__version__} is not {PATCHED_VERSION}: running it unpatched",
            file=sys.stderr,
        )
        return False
    from moto.core.responses import BaseResponse
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.responses import DynamoHandler
    from moto.kinesis.models import KinesisBackend, Shard, Stream
    from moto.kinesis.responses import KinesisResponse
    from moto.sqs.models import Queue, SQSBackend

    _STOCK["transact_write_items"] = DynamoDBBackend.transact_write_items
    _STOCK["get_records"] = Shard.get_records
    DynamoDBBackend.transact_write_items = _journal_transact_write_items
    Shard.get_min_sequence_number = _shard_get_min_sequence_number
    Shard.get_max_sequence_number = _shard_get_max_sequence_number
    Shard.get_sequence_number_at = _shard_get_sequence_number_at
    Shard.get_records = _shard_get_records
    Stream.split_shard = _keep_parent_records(Stream.split_shard)
    Stream.merge_shards = _keep_parent_records(Stream.merge_shards)
    Stream.get_shard_for_key = _stream_get_shard_for_key
    KinesisBackend.get_records = _backend_get_records
    UpdateExpressionParser.make = _cached_update_expression_make(UpdateExpressionParser.make)
    DynamoHandler.call_action = _serialized(DynamoHandler.call_action, threading.Lock())
    KinesisResponse.call_action = _serialized(BaseResponse.call_action, threading.Lock())
    Queue.__init__ = _queue_init(Queue.__init__)
    Queue.pending_message_groups = property(_queue_pending_message_groups)
    SQSBackend.purge_queue = _purge_queue(SQSBackend.purge_queue)
    DynamoType.__add__ = _dynamo_arithmetic(+1)
    DynamoType.__sub__ = _dynamo_arithmetic(-1)
    DynamoHandler.transact_write_items = _idempotent_transact_write_items(DynamoHandler.transact_write_items)
    return True


STATUS_PATH = "/__streamlake/launcher"


def _serve_status(patched):
    """Answer GET STATUS_PATH with which moto runs, whether the fixes are applied
    (so that a client can tell a patched emulator, whose DynamoDB transactions are
    isolated, from another one), the process id, and the number of requests
    answered and of those answered with a 5xx status (emulator errors: the
    project's fault injection never reaches the emulator)."""
    import json

    import moto
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    counts = {"requests": 0, "server_errors": 0}
    lock = threading.Lock()
    stock_call = DomainDispatcherApplication.__call__

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == STATUS_PATH:
            with lock:
                body = json.dumps(
                    {"moto": moto.__version__, "patched": patched, "pid": os.getpid(), **counts}
                ).encode()
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]

        def counting_start_response(status, headers, *args):
            with lock:
                counts["requests"] += 1
                if status[:1] == "5":
                    counts["server_errors"] += 1
            return start_response(status, headers, *args)

        try:
            return stock_call(self, environ, counting_start_response)
        except BaseException:
            # Unhandled: the server answers 500.
            with lock:
                counts["requests"] += 1
                counts["server_errors"] += 1
            raise

    DomainDispatcherApplication.__call__ = __call__


def main(argv=None):
    patched = False
    if os.environ.get("STREAMLAKE_MOTO_STOCK") != "1":
        patched = apply_patches()
    _serve_status(patched)
    threading.Thread(target=_trim_memory_loop, args=(5.0,), daemon=True).start()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
