/**
 * The routing table of one {@link ShardMap} snapshot: open shards sorted by ending hash key, and
 * the KPL's lookup "first shard whose ending key ≥ the hash key" (kpl.md §4, `shard_map.cc`).
 *
 * Departure from the KPL: its table holds uint128 end keys; ours holds each end key's top 48 bits
 * as a plain number (`Float64Array`) and its 16 bytes. A lookup compares numbers and only falls
 * back to the 16 bytes (`compareHashKeys`) when the top 48 bits tie, so it builds no BigInt and
 * allocates nothing.
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
  return { shardIds: Object.freeze(sorted.map((e) => e.shardId)), ends48, endKeys: Object.freeze(endKeys) };
}

/**
 * The shard owning `key`: the first whose ending key is ≥ `key` (lower bound), or `undefined` when
 * `key` is past every ending key (the KPL logs an error and returns none, kpl.md §4).
 */
export function lookupShard(table: ShardTable, key: HashKey): string | undefined {
  const { ends48, endKeys } = table;
  const k48 = hashKeyTop48(key);
  let lo = 0;
  let hi = ends48.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const end48 = ends48[mid];
    if (end48 < k48 || (end48 === k48 && compareHashKeys(endKeys[mid], key) < 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo < ends48.length ? table.shardIds[lo] : undefined;
}
