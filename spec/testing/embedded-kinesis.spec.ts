import { partitionKeyToHashKey } from '../../lib/codec/hash';
import { startEmbeddedKinesis, type EmbeddedKinesis } from '../../lib/testing/embedded-kinesis';
import { testingEntries, testingPut, testingShardFor } from '../helpers/testing-records';

describe('startEmbeddedKinesis', () => {
  let kinesis: EmbeddedKinesis;
  beforeAll(async () => {
    kinesis = await startEmbeddedKinesis();
  });
  afterAll(() => kinesis.close());

  it('serves on loopback with a working client', () => {
    expect(kinesis.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('creates an ACTIVE stream with the requested shard count', async () => {
    await kinesis.createStream('create-4', 4);
    const shards = await kinesis.listShards('create-4');
    expect(shards.map((s) => s.ShardId)).toEqual([0, 1, 2, 3].map((i) => `shardId-${String(i).padStart(12, '0')}`));
    expect(shards[3].HashKeyRange?.EndingHashKey).toBe(((1n << 128n) - 1n).toString());
  });

  it('reads back every record put, each on the shard its partition key hashes to', async () => {
    await kinesis.createStream('read-all', 4);
    const shards = await kinesis.listShards('read-all');
    const entries = testingEntries(50);
    const answer = await testingPut(kinesis.client, 'read-all', entries);
    expect(answer.FailedRecordCount).toBe(0);

    const perShard = await kinesis.readAll('read-all');
    expect(perShard.map((s) => s.shardId).sort()).toEqual(shards.map((s) => s.ShardId).sort());
    const seen = perShard.flatMap((s) => s.records.map((r) => ({ shardId: s.shardId, pk: r.PartitionKey as string })));
    expect(seen.map((r) => r.pk).sort()).toEqual(entries.map((e) => e.PartitionKey).sort());
    for (const r of seen) expect(r.shardId).toBe(testingShardFor(shards, partitionKeyToHashKey(r.pk)));
  });

  it('splits and merges shards, and reads closed parents too', async () => {
    await kinesis.createStream('reshard', 2);
    await testingPut(kinesis.client, 'reshard', testingEntries(20));
    await kinesis.splitShard('reshard', 'shardId-000000000000', 1n << 126n);
    let shards = await kinesis.listShards('reshard');
    expect(shards).toHaveLength(4);
    await kinesis.mergeShards('reshard', 'shardId-000000000002', 'shardId-000000000003');
    shards = await kinesis.listShards('reshard');
    expect(shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined)).toHaveLength(2);
    const total = (await kinesis.readAll('reshard')).reduce((n, s) => n + s.records.length, 0);
    expect(total).toBe(20);
  });

  it('rejects updateShardCount with a clear error (kinesalite has no UpdateShardCount)', async () => {
    await expect(kinesis.updateShardCount('create-4', 8)).rejects.toThrow(/kinesalite has no UpdateShardCount/);
  });
});

describe('startEmbeddedKinesis without kinesalite installed', () => {
  it('throws an Error saying to install kinesalite', async () => {
    let start: typeof startEmbeddedKinesis | undefined;
    jest.isolateModules(() => {
      jest.doMock('kinesalite', () => {
        throw Object.assign(new Error("Cannot find module 'kinesalite'"), { code: 'MODULE_NOT_FOUND' });
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      start = (require('../../lib/testing/embedded-kinesis') as typeof import('../../lib/testing/embedded-kinesis')).startEmbeddedKinesis;
    });
    await expect(start!()).rejects.toThrow('install kinesalite to use startEmbeddedKinesis');
    jest.dontMock('kinesalite');
  });
});
