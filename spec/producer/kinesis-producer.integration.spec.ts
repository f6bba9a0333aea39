/**
 * The producer end to end on an embedded kinesalite (in-process, loopback): what goes in comes back
 * out exactly once, on the right shard, aggregated.
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import { KinesisProducer } from '../../lib/producer/kinesis-producer-class';
import { kinesisProducer } from '../../lib/producer/kinesis-producer';
import type { UserRecord } from '../../lib/records';
import { startEmbeddedKinesis, type EmbeddedKinesis } from '../../lib/testing/embedded-kinesis';
import { readBack } from '../helpers/producer-readback';

function makeRecords(n: number, keys: number, tag: string): UserRecord[] {
  return Array.from({ length: n }, (_, i) => ({ partitionKey: `key-${i % keys}`, data: `${tag}-${i}-${'x'.repeat(60)}` }));
}

describe('kinesisProducer on embedded kinesalite', () => {
  let kinesis: EmbeddedKinesis;
  beforeAll(async () => {
    kinesis = await startEmbeddedKinesis();
  });
  afterAll(async () => {
    await kinesis.close();
  });

  it('writes 10,000 records over 500 keys to 4 shards exactly once (operator form)', async () => {
    await kinesis.createStream('op-stream', 4);
    const records = makeRecords(10_000, 500, 'op');
    const results = await lastValueFrom(
      from(records).pipe(kinesisProducer({ client: kinesis.client, streamName: 'op-stream', overflow: 'buffer' }), toArray()),
    );
    expect(results).toHaveLength(records.length);
    expect(results.filter((r) => r.success)).toHaveLength(records.length);
    expect(new Set(results.map((r) => r.record)).size).toBe(records.length); // one result per record

    const back = await readBack(kinesis, 'op-stream');
    expect(back.wrongShard).toBe(0);
    expect(back.userRecords).toBe(records.length);
    for (const r of records) expect(back.seen.get(r.data as string)).toBe(1);
    // most Kinesis records hold many user records
    expect(back.userRecords / back.kinesisRecords).toBeGreaterThan(20);
    console.log(
      `operator: ${back.userRecords} user records in ${back.kinesisRecords} Kinesis records (${back.aggregated} aggregated)`,
    );
  });

  it('writes 10,000 records exactly once through the Promise class', async () => {
    await kinesis.createStream('class-stream', 4);
    const records = makeRecords(10_000, 500, 'class');
    const producer = new KinesisProducer({ client: kinesis.client, streamName: 'class-stream' });
    const results = await Promise.all(records.map((r) => producer.put(r)));
    await producer.close();
    expect(results.every((r) => r.success)).toBe(true);
    expect(results.map((r) => r.record)).toEqual(records);
    const last = results[results.length - 1];
    const shared = results.filter((r) => r.sequenceNumber === last.sequenceNumber && r.shardId === last.shardId);
    expect(shared.length).toBeGreaterThan(1); // aggregated records share a sequence number

    const back = await readBack(kinesis, 'class-stream');
    expect(back.wrongShard).toBe(0);
    for (const r of records) expect(back.seen.get(r.data as string)).toBe(1);
  });

  it('fails a missing stream fast while another stream in the same producer succeeds', async () => {
    await kinesis.createStream('good-stream', 2);
    const records: UserRecord[] = [];
    for (let i = 0; i < 500; i++) {
      records.push({ partitionKey: `g${i}`, data: `good-${i}` });
      if (i % 50 === 0) records.push({ partitionKey: `m${i}`, data: `missing-${i}`, streamName: 'no-such-stream' });
    }
    const started = Date.now();
    const results = await lastValueFrom(
      from(records).pipe(kinesisProducer({ client: kinesis.client, streamName: 'good-stream', overflow: 'buffer' }), toArray()),
    );
    const elapsed = Date.now() - started;
    const missing = results.filter((r) => r.record.streamName === 'no-such-stream');
    const good = results.filter((r) => r.record.streamName === undefined);
    expect(missing).toHaveLength(10);
    expect(missing.every((r) => !r.success && r.errorCode === 'ResourceNotFoundException')).toBe(true);
    expect(good).toHaveLength(500);
    expect(good.every((r) => r.success)).toBe(true);
    expect(elapsed).toBeLessThan(2000);
  });
});
