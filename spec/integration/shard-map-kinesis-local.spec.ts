/**
 * ShardMap against kinesis-local (a child process on loopback ports): UpdateShardCount 4→8, which
 * kinesalite lacks (node-testing.md §1). kinesis-local honours ShardFilter AT_LATEST and splits
 * ranges differently from kinesalite, so predictions here prove ranges are read, not computed.
 */
import { startKinesisLocal } from '../../lib/testing/kinesis-local';
import type { EmbeddedKinesis } from '../../lib/testing/embedded-kinesis';
import { ShardMap } from '../../lib/shards/shard-map';
import { probesOf, putAndCompare, randomExplicitHashKeys, randomPartitionKeys, until } from '../helpers/shards-integration';
import { mulberry32 } from '../../lib/testing/mulberry32';

describe('ShardMap on kinesis-local', () => {
  let kinesis: EmbeddedKinesis;
  let map: ShardMap | undefined;

  beforeAll(async () => {
    kinesis = await startKinesisLocal();
    await kinesis.createStream('resharded', 4);
  }, 30000);
  afterAll(async () => {
    map?.close();
    await kinesis?.close();
  });

  it('holds the 8 open children after UpdateShardCount 4→8 and invalidate, keeps the parents for closedShardTtlMs, then drops them', async () => {
    const closedShardTtlMs = 1500;
    const filters: (string | undefined)[] = [];
    const client = {
      send: (command: { input: { ShardFilter?: { Type?: string } } }) => {
        filters.push(command.input.ShardFilter?.Type);
        return kinesis.client.send(command as never);
      },
    } as unknown as typeof kinesis.client;
    map = new ShardMap({ client, streamName: 'resharded', refreshIntervalMs: 0, closedShardTtlMs });
    await map.start();
    const parents = [...map.openShardIds];
    expect(parents).toHaveLength(4);
    const parentRanges = parents.map((id) => map!.hashRange(id));

    const probes = probesOf(randomPartitionKeys(200, mulberry32(3)), randomExplicitHashKeys(20, mulberry32(4)));
    const before = await putAndCompare(kinesis.client, 'resharded', map, probes);
    expect(before.mismatches).toEqual([]);

    await kinesis.updateShardCount('resharded', 8);
    const stale = await putAndCompare(kinesis.client, 'resharded', map, probes);
    console.log(`kinesis-local after UpdateShardCount 4→8, stale map: ${stale.matched} of ${stale.total} matched`);
    expect(stale.matched).toBe(0);

    const loadedAt = map.updatedAt;
    map.invalidate(Date.now(), stale.mismatches[0].predicted);
    await until(() => map!.updatedAt > loadedAt);
    const refreshedAt = performance.now();

    expect(map.openShardIds).toHaveLength(8);
    expect(filters).toEqual(['AT_LATEST', 'AT_LATEST']); // accepted: no fallback request without the filter
    expect(map.openShardIds.filter((id) => parents.includes(id))).toEqual([]);
    expect(parents.map((id) => map!.hashRange(id))).toEqual(parentRanges);
    const after = await putAndCompare(kinesis.client, 'resharded', map, probes);
    console.log(`kinesis-local after UpdateShardCount 4→8, refreshed map: ${after.matched} of ${after.total} matched`);
    expect(after.mismatches).toEqual([]);

    // real time: the map runs on asyncScheduler against a real server
    await until(() => performance.now() - refreshedAt > closedShardTtlMs + 50, closedShardTtlMs + 2000);
    expect(parents.map((id) => map!.hashRange(id))).toEqual([undefined, undefined, undefined, undefined]);
    expect(map.hashRange(map.openShardIds[0])).toBeDefined();
  }, 30000);
});
