/**
 * ShardMap against kinesalite (in-process, loopback): predictions equal the ShardId PutRecords
 * answers, a split is caught by invalidate(), and a missing stream fails fast without blocking
 * another stream's map (aiokpl.md §9 B3). kinesalite ignores ShardFilter and lists closed shards
 * too (node-testing.md §2), which exercises the map's own closed-shard filtering.
 */
import { startEmbeddedKinesis, type EmbeddedKinesis } from '../../lib/testing/embedded-kinesis';
import { ShardMap } from '../../lib/shards/shard-map';
import { probesOf, putAndCompare, randomExplicitHashKeys, randomPartitionKeys, until } from '../helpers/shards-integration';
import { mulberry32 } from '../../lib/testing/mulberry32';

describe('ShardMap on kinesalite', () => {
  let kinesis: EmbeddedKinesis;
  const maps: ShardMap[] = [];
  const newMap = (streamName: string, extra: Partial<ConstructorParameters<typeof ShardMap>[0]> = {}): ShardMap => {
    const map = new ShardMap({ client: kinesis.client, streamName, refreshIntervalMs: 0, ...extra });
    maps.push(map);
    return map;
  };

  beforeAll(async () => {
    kinesis = await startEmbeddedKinesis();
    await kinesis.createStream('four', 4);
  });
  afterAll(async () => {
    maps.forEach((m) => m.close());
    await kinesis.close();
  });

  it('predicts the shard PutRecords chooses for 1,000 partition keys and 100 explicit hash keys', async () => {
    const map = newMap('four');
    await map.start();
    expect(map.openShardIds).toHaveLength(4);
    const random = mulberry32(42);
    const result = await putAndCompare(kinesis.client, 'four', map, probesOf(randomPartitionKeys(1000, random), randomExplicitHashKeys(100, random)));
    console.log(`kinesalite, 4 shards: ${result.matched} of ${result.total} predictions matched PutRecords' ShardId`);
    expect(result.mismatches).toEqual([]);
    expect(result.matched).toBe(1100);
  });

  it('converges after a SplitShard once invalidated, and keeps the parent range', async () => {
    await kinesis.createStream('split', 2);
    const map = newMap('split');
    await map.start();
    const [first] = map.openShardIds;
    const parent = map.hashRange(first)!;
    const middle = (parent.startingHashKey + parent.endingHashKey + 1n) / 2n;
    await kinesis.splitShard('split', first, middle);

    const probes = probesOf(randomPartitionKeys(200, mulberry32(7)));
    const before = await putAndCompare(kinesis.client, 'split', map, probes);
    console.log(`kinesalite after SplitShard, stale map: ${before.matched} of ${before.total} matched`);
    expect(before.matched).toBeLessThan(before.total);

    // As the Retrier does: the request's start time and the predicted shard (kpl.md §8).
    const loadedAt = map.updatedAt;
    map.invalidate(Date.now(), before.mismatches[0].predicted);
    await until(() => map.updatedAt > loadedAt);

    expect(map.openShardIds).toHaveLength(3);
    expect(map.openShardIds).not.toContain(first);
    expect(map.hashRange(first)).toEqual(parent);
    const after = await putAndCompare(kinesis.client, 'split', map, probes);
    console.log(`kinesalite after SplitShard, refreshed map: ${after.matched} of ${after.total} matched`);
    expect(after.mismatches).toEqual([]);
  });

  it('rejects start() for a stream that does not exist, while a map of another stream works', async () => {
    const started = performance.now();
    const missing = newMap('does-not-exist');
    const other = newMap('four');
    const [missingResult, otherResult] = await Promise.allSettled([missing.start(), other.start()]);
    const elapsed = performance.now() - started;
    console.log(`missing stream: start() rejected after ${elapsed.toFixed(0)} ms`);
    expect(missingResult).toMatchObject({ status: 'rejected', reason: { name: 'ResourceNotFoundException' } });
    expect(missing.failure?.errorCode).toBe('ResourceNotFoundException');
    expect(otherResult.status).toBe('fulfilled');
    expect(other.openShardIds).toHaveLength(4);
  }, 2000);
});
