/**
 * Issue 11.5: wrong shard end to end (kpl.md §8, §4). The stub answers the first PutRecords from a
 * shard that does not own the records' hash keys — as Kinesis does after a reshard the producer has
 * not seen — then answers truthfully. Each record is retried once as `Wrong Shard`, the shard map
 * reloads exactly once (ListShards counted), and every record then succeeds on its own shard.
 */
import { ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { from, lastValueFrom, toArray } from 'rxjs';
import { partitionKeyToHashKey } from '../../lib/codec/hash';
import { KinesisProducer } from '../../lib/producer/kinesis-producer-class';
import { kinesisProducer } from '../../lib/producer/kinesis-producer';
import type { RecordResult } from '../../lib/records';
import { startFaultyKinesis, stubShardId, type FaultyKinesis } from '../../lib/testing/faulty-kinesis';
import { reliabilityRecords, resultsByRecord } from '../helpers/reliability-load';
import { checkAgainstStub } from '../helpers/reliability-stub';

/** The stub's client, counting ListShards requests. */
function countingClient(stub: FaultyKinesis): { client: Pick<KinesisClient, 'send'>; listShards: () => number } {
  let listShards = 0;
  const send = ((command: unknown, options?: unknown) => {
    if (command instanceof ListShardsCommand) listShards++;
    return (stub.client.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options);
  }) as KinesisClient['send'];
  return { client: { send }, listShards: () => listShards };
}

/** The next shard of 4: its range never holds a key of `actual`. */
const neighbour = (actual: string): string => stubShardId((Number(actual.slice(-12)) + 1) % 4);

function expectOneWrongShardThenSuccess(results: RecordResult[], stub: FaultyKinesis): void {
  for (const r of results) {
    expect(r.success).toBe(true);
    expect(r.attempts.map((a) => (a.success ? 'ok' : a.errorCode))).toEqual(['Wrong Shard', 'ok']);
    // the retry landed on the shard whose range holds the key (the stub answers truthfully now)
    const key = partitionKeyToHashKey(r.record.partitionKey);
    const owner = stub.shards('s').find((x) => key >= x.startingHashKey && key <= x.endingHashKey);
    expect(r.shardId).toBe(owner?.shardId);
  }
  expect(checkAgainstStub(stub, results)).toMatchObject({ successNotStored: 0 });
}

describe('wrong shard end to end (stub answerShardId)', () => {
  let stub: FaultyKinesis;
  beforeEach(async () => {
    stub = await startFaultyKinesis({ streams: { s: 4 } });
  });
  afterEach(async () => {
    await stub.close();
  });

  it('retries as Wrong Shard when answered from a known shard that does not own the keys, reloads the map once, then succeeds', async () => {
    stub.setBehaviour({ answerShardId: (actual, record) => (record.requestIndex === 0 ? neighbour(actual) : actual) });
    const { client, listShards } = countingClient(stub);
    const records = reliabilityRecords(400, 40, 'ws', 10);
    const results = await lastValueFrom(from(records).pipe(kinesisProducer({ client, streamName: 's', recordMaxBufferedTimeMs: 20, overflow: 'buffer' }), toArray()));
    console.log(
      `wrong shard (known): ${JSON.stringify({ records: records.length, putRecordsRequests: stub.putRecordsRequests.length, listShardsRequests: listShards(), stored: stub.accepted().length })}`,
    );
    expect(resultsByRecord(records, results).size).toBe(records.length);
    expectOneWrongShardThenSuccess(results, stub);
    expect(listShards()).toBe(2); // the first load, and one reload
  });

  it('waits for the reload when answered from a shard the map does not know, then retries as Wrong Shard once and succeeds', async () => {
    stub.setBehaviour({ answerShardId: (actual, record) => (record.requestIndex === 0 ? stubShardId(99) : actual) });
    const { client, listShards } = countingClient(stub);
    const records = reliabilityRecords(400, 40, 'wu', 10);
    const producer = new KinesisProducer({ client, streamName: 's', recordMaxBufferedTimeMs: 20 });
    const results = await Promise.all(records.map((r) => producer.put(r)));
    await producer.close();
    console.log(
      `wrong shard (unknown id): ${JSON.stringify({ records: records.length, putRecordsRequests: stub.putRecordsRequests.length, listShardsRequests: listShards() })}`,
    );
    expectOneWrongShardThenSuccess(results, stub);
    expect(results.every((r) => /shardId-000000000099, whose hash range is unknown/.test(r.attempts[0].errorMessage ?? ''))).toBe(true);
    expect(listShards()).toBe(2);
  });
});
