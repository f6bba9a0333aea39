/**
 * The aggregation codec against a real (embedded) Kinesis: an aggregated record put the way the
 * KPL puts it (partition key "a", ExplicitHashKey = the first sub-record's hash key, kpl.md §2)
 * comes back from GetRecords byte for byte, on the shard owning that key, and decodes to the
 * records that went in.
 */
import { decodeAggregated, encodeAggregated, isAggregated } from '../../lib/codec/aggregation';
import { hashKeyOfPartitionKey, hashKeyToDecimal } from '../../lib/codec/hash';
import { startEmbeddedKinesis, type EmbeddedKinesis } from '../../lib/testing/embedded-kinesis';
import { testingPut } from '../helpers/testing-records';

describe('aggregated records on kinesalite', () => {
  let kinesis: EmbeddedKinesis;
  beforeAll(async () => {
    kinesis = await startEmbeddedKinesis();
    await kinesis.createStream('codec', 4);
  });
  afterAll(() => kinesis.close());

  it('round-trips an aggregated record byte for byte, on the shard of its first record', async () => {
    const records = [
      { partitionKey: 'user-17', data: new TextEncoder().encode('first') },
      { partitionKey: 'user-3', data: new Uint8Array([0, 1, 2, 255]) },
      { partitionKey: 'user-17', data: new Uint8Array(0) },
      { partitionKey: 'ünïcödé-κλειδί', explicitHashKey: '170141183460469231731687303715884105728', data: new TextEncoder().encode('x'.repeat(300)) },
    ];
    const blob = encodeAggregated(records);
    expect(isAggregated(blob)).toBe(true);
    const explicitHashKey = hashKeyToDecimal(hashKeyOfPartitionKey(records[0].partitionKey));

    const answer = await testingPut(kinesis.client, 'codec', [{ PartitionKey: 'a', ExplicitHashKey: explicitHashKey, Data: blob }]);
    expect(answer.FailedRecordCount).toBe(0);

    const key = BigInt(explicitHashKey);
    const owner = (await kinesis.listShards('codec')).find(
      (s) => BigInt(s.HashKeyRange!.StartingHashKey!) <= key && key <= BigInt(s.HashKeyRange!.EndingHashKey!),
    )!;
    expect(answer.Records![0].ShardId).toBe(owner.ShardId);

    const perShard = await kinesis.readAll('codec');
    const landed = perShard.filter((s) => s.records.length > 0);
    expect(landed.map((s) => s.shardId)).toEqual([owner.ShardId]);
    const [read] = landed[0].records;
    expect(read.PartitionKey).toBe('a');
    expect(read.SequenceNumber).toBe(answer.Records![0].SequenceNumber);
    expect(Buffer.from(read.Data!).equals(Buffer.from(blob))).toBe(true);

    const decoded = decodeAggregated(read.Data!);
    expect(decoded.map((r) => ({ partitionKey: r.partitionKey, explicitHashKey: r.explicitHashKey, data: Buffer.from(r.data).toString('hex') }))).toEqual(
      records.map((r) => ({ partitionKey: r.partitionKey, explicitHashKey: r.explicitHashKey, data: Buffer.from(r.data).toString('hex') })),
    );
  });
});
