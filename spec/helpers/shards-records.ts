/** Builders for shardPredict tests: user records and a fake ShardMapLike. */
import type { HashKey } from '../../lib/codec/hash';
import type { ShardMapLike } from '../../lib/operators/shard-predict';
import type { ShardMapFailure } from '../../lib/shards/shard-map';
import type { UserRecord } from '../../lib/records';

/** A user record with string data `data-<key>`. */
export function userRecord(partitionKey: string, extra: Partial<UserRecord> = {}): UserRecord {
  return { partitionKey, data: `data-${partitionKey}`, ...extra };
}

/** A map routing keys whose first byte is < 128 to `low`, the rest to `high`; or failed for good. */
export function twoShardMap(low = 'shardId-000000000000', high = 'shardId-000000000001', failure?: ShardMapFailure): ShardMapLike {
  return { predictKey: (key: HashKey) => (key[0] < 128 ? low : high), failure };
}
