/**
 * The routing table of one {@link ShardMap} snapshot: open shards sorted by ending hash key, and
 * the KPL's lookup "first shard whose ending key ≥ the hash key" (kpl.md §4, `shard_map.cc`).
 *
 * Departure from the KPL: its table holds uint128 end keys; ours holds each end key's top 48 bits
 * as a plain number (`Float64Array`) and its 16 bytes. A lookup compares numbers and only falls
 * back to the 16 bytes (`compareHashKeys`) when the top 48 bits tie, so it builds no BigInt and
 * allocates nothing. A bucket index on the key's top bits narrows the binary search to the one or
 * two shards that can own a key in that bucket (bench/shard-predict.bench.ts: 1,000 shards).
 */
import { bigIntToHashKey, compareHashKeys, hashKeyTop48, type HashKey } from '../codec/hash';

/** One shard as ListShards describes it: its id and its inclusive hash-key range. */
export interface ShardEntry {
  readonly shardId: string;
  readonly startingHashKey: bigint;
  readonly endingHashKey: bigint;
}

/** Open shards sorted by ending hash key, in the fixed-width form the lookup reads. */
export interface ShardTable {
  /** Shard ids, ascending by ending hash key. */
  readonly shardIds: readonly string[];
  /** hashKeyTop48(end key) for each shard, same order. */
  readonly ends48: Float64Array;
  /** The 16-byte end key of each shard, same order (read only on a top-48 tie). */
  readonly endKeys: readonly HashKey[];
  /** Right shift taking a key's top 16 bits to its bucket number. */
  readonly bucketShift: number;
  /**
   * `buckets[b]`: index of the first shard whose end key is ≥ the first key of bucket b (length
   * 2^bits + 1; the last entry is the shard count). The owner of any key in bucket b lies in
   * [buckets[b], buckets[b + 1]]: shards before it end below the bucket, and the shard at
   * buckets[b + 1] ends past it.
   */
  readonly buckets: Int32Array;
}

/** About four buckets per shard, between 2^4 and 2^16 buckets. */
function bucketBits(shards: number): number {
  return Math.min(16, Math.max(4, Math.ceil(Math.log2(Math.max(shards, 1))) + 2));
}

/** Sorts `entries` by ending hash key and builds the lookup arrays. */
export function buildShardTable(entries: readonly ShardEntry[]): ShardTable {
  const sorted = [...entries].sort((a, b) => (a.endingHashKey < b.endingHashKey ? -1 : a.endingHashKey > b.endingHashKey ? 1 : 0));
  const ends48 = new Float64Array(sorted.length);
  const endKeys: HashKey[] = [];
  sorted.forEach((entry, i) => {
    const key = bigIntToHashKey(entry.endingHashKey);
    endKeys.push(key);
    ends48[i] = hashKeyTop48(key);
  });
  const bits = bucketBits(sorted.length);
  const count = 2 ** bits;
  const buckets = new Int32Array(count + 1);
  const width48 = 2 ** (48 - bits); // a bucket's first key has zeros below its top bits, so top-48 comparison is exact
  let i = 0;
  for (let b = 0; b < count; b++) {
    while (i < ends48.length && ends48[i] < b * width48) i++;
    buckets[b] = i;
  }
  buckets[count] = ends48.length;
  return { shardIds: Object.freeze(sorted.map((e) => e.shardId)), ends48, endKeys: Object.freeze(endKeys), bucketShift: 16 - bits, buckets };
}

/**
 * The shard owning `key`: the first whose ending key is ≥ `key` (lower bound), or `undefined` when
 * `key` is past every ending key (the KPL logs an error and returns none, kpl.md §4).
 */
export function lookupShard(table: ShardTable, key: HashKey): string | undefined {
  const { ends48, endKeys, buckets } = table;
  const k48 = hashKeyTop48(key);
  const bucket = (key[0] * 256 + key[1]) >>> table.bucketShift;
  let lo = buckets[bucket];
  // The owner is in [buckets[b], buckets[b + 1]]; a lower bound over [lo, hi) returns hi when every
  // shard before it ends below the key, so the last candidate never needs probing.
  let hi = buckets[bucket + 1];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const end48 = ends48[mid];
    if (end48 < k48 || (end48 === k48 && compareHashKeys(endKeys[mid], key) < 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo < ends48.length ? table.shardIds[lo] : undefined;
}
