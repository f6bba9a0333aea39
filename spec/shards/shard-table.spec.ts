import fc from 'fast-check';
import { bigIntToHashKey, MAX_HASH_KEY } from '../../lib/codec/hash';
import { buildShardTable, lookupShard, type ShardEntry } from '../../lib/shards/shard-table';

/** Shards covering [0, 2^128−1] split at the given (sorted, distinct) cut points. */
function cover(cuts: bigint[]): ShardEntry[] {
  const ends = [...new Set(cuts)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).filter((c) => c < MAX_HASH_KEY);
  ends.push(MAX_HASH_KEY);
  let start = 0n;
  return ends.map((end, i) => {
    const entry = { shardId: `s${i}`, startingHashKey: start, endingHashKey: end };
    start = end + 1n;
    return entry;
  });
}

function owner(entries: ShardEntry[], key: bigint): string | undefined {
  return entries.find((e) => e.startingHashKey <= key && key <= e.endingHashKey)?.shardId;
}

const hashKey = fc.bigInt({ min: 0n, max: MAX_HASH_KEY });
// Cut points clustered near one value exercise buckets holding many shards and top-48 ties.
const clustered = fc.tuple(hashKey, fc.array(fc.bigInt({ min: 0n, max: 1n << 90n }), { maxLength: 40 })).map(([base, offsets]) =>
  offsets.map((o) => (base + o > MAX_HASH_KEY ? MAX_HASH_KEY : base + o)),
);

describe('lookupShard', () => {
  it('finds the shard whose range holds the key, for any split of the key space', () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(hashKey, { maxLength: 300 }), clustered), fc.array(hashKey, { maxLength: 50 }), (cuts, keys) => {
        const entries = cover(cuts);
        const table = buildShardTable([...entries].reverse());
        const probes = [...keys, 0n, MAX_HASH_KEY, ...entries.flatMap((e) => [e.startingHashKey, e.endingHashKey])];
        for (const key of probes) expect(lookupShard(table, bigIntToHashKey(key))).toBe(owner(entries, key));
      }),
      { numRuns: 200 },
    );
  });

  it('answers nothing past the last ending key, and nothing from an empty table', () => {
    const table = buildShardTable([{ shardId: 'a', startingHashKey: 0n, endingHashKey: 1n << 127n }]);
    expect(lookupShard(table, bigIntToHashKey(1n << 127n))).toBe('a');
    expect(lookupShard(table, bigIntToHashKey((1n << 127n) + 1n))).toBeUndefined();
    expect(lookupShard(buildShardTable([]), bigIntToHashKey(0n))).toBeUndefined();
  });
});
