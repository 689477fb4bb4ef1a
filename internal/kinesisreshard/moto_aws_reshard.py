"""moto server with Kinesis resharding as AWS does it.

moto 5.2 departs from Kinesis Data Streams when a stream is resharded:

* SplitShard moves the parent's records into the children (with new sequence
  numbers); AWS keeps them in the parent, readable until they expire, and the
  children start empty.
* MergeShards copies the parents' records into the child; AWS does not.
* PutRecord(s) may still route records to a closed parent shard, because the
  shard lookup by hash key considers closed shards; AWS writes only to open
  shards.
* GetRecords on a closed shard read to its end keeps returning a
  NextShardIterator; AWS returns none (the reader's cue that the shard ended).

This module patches those four points and then runs moto's own server
(arguments as for moto_server). Everything else is moto unchanged.
"""

import sys
from collections import OrderedDict

from moto.kinesis import models as km
from moto.kinesis.exceptions import InvalidArgumentError
from moto.utilities.utils import md5_hash

_split_shard = km.Stream.split_shard
_merge_shards = km.Stream.merge_shards
_get_records = km.KinesisBackend.get_records


def _keep_parent_records(original):
    def reshard(self, *args, **kwargs):
        before = set(self.shards)
        saved = {sid: OrderedDict(s.records) for sid, s in self.shards.items()}
        original(self, *args, **kwargs)
        for sid, shard in self.shards.items():
            if sid in before:
                shard.records = saved[sid]
            else:
                shard.records = OrderedDict()

    return reshard


def get_shard_for_key(self, partition_key, explicit_hash_key):
    if not isinstance(partition_key, str) or len(partition_key) > 256:
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


def get_records(self, stream_arn, shard_iterator, limit):
    next_iterator, records, millis_behind = _get_records(
        self, stream_arn, shard_iterator, limit
    )
    stream_name, shard_id, last_sequence_id = km.decompose_shard_iterator(
        shard_iterator
    )
    stream = self.describe_stream(stream_arn=stream_arn, stream_name=stream_name)
    shard = stream.get_shard(shard_id)
    if not shard.is_open and not records:
        if int(last_sequence_id) >= shard.get_max_sequence_number():
            next_iterator = None
    return next_iterator, records, millis_behind


km.Stream.split_shard = _keep_parent_records(_split_shard)
km.Stream.merge_shards = _keep_parent_records(_merge_shards)
km.Stream.get_shard_for_key = get_shard_for_key
km.KinesisBackend.get_records = get_records

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
