import type { ListShardsCommandOutput } from '@aws-sdk/client-kinesis';
import { TestScheduler } from 'rxjs/testing';
import { hashKeyOfPartitionKey, MAX_HASH_KEY } from '../../lib/codec/hash';
import { shardPredict } from '../../lib/operators/shard-predict';
import type { BufferedRecord, RecordResult, UserRecord } from '../../lib/records';
import { ShardMap, type ShardMapOptions } from '../../lib/shards/shard-map';
import { fakeClient, pages, shard } from '../../spec/helpers/shards-fakes';
import { twoShardMap, userRecord } from '../../spec/helpers/shards-records';

const SHARD_OF_A = hashKeyOfPartitionKey('a')[0] < 128 ? 'low' : 'high'; // md5('a') = 0c…: low
const SHARD_OF_B = hashKeyOfPartitionKey('b')[0] < 128 ? 'low' : 'high'; // md5('b') = 92…: high

function buffered(record: UserRecord, at: number, predictedShard: string | undefined, over: Partial<BufferedRecord> = {}): BufferedRecord {
  const data = new TextEncoder().encode(record.data as string);
  return {
    record,
    streamName: 'orders',
    data,
    hashKey: hashKeyOfPartitionKey(record.partitionKey),
    explicitHashKey: undefined,
    predictedShard,
    arrival: at,
    deadline: at + 100,
    expiration: at + 30000,
    attempts: [],
    dataBytes: data.length,
    token: undefined,
    ...over,
  };
}

function failedAt(record: UserRecord, at: number, errorCode: string, errorMessage: string): RecordResult {
  return {
    record,
    success: false,
    errorCode,
    errorMessage,
    attempts: [{ startedAt: at, endedAt: at, delayMs: 0, durationMs: 0, success: false, errorCode, errorMessage }],
  };
}

describe('shardPredict', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    // toEqual compares Uint8Array contents and md5 byte arrays element-wise
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  it('predicts each record and stamps arrival, deadline and expiration', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const a = userRecord('a');
      const b = userRecord('b');
      const source = hot('-a-b-|', { a, b });
      const subs = '      ^----!';
      const expected = '  -A-B-|';
      //                   A arrives at 1: deadline 1 + 100, expiration 1 + 30000
      const result = source.pipe(shardPredict({ shardMap: twoShardMap('low', 'high'), streamName: 'orders', scheduler }));
      expectObservable(result).toBe(expected, { A: buffered(a, 1, SHARD_OF_A), B: buffered(b, 3, SHARD_OF_B) });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('uses the configured recordMaxBufferedTimeMs and recordTtlMs, and the explicit hash key', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e = userRecord('a', { explicitHashKey: MAX_HASH_KEY.toString() });
      const expected = '--E|';
      const result = cold('--e|', { e }).pipe(
        shardPredict({ shardMap: twoShardMap('low', 'high'), streamName: 'orders', recordMaxBufferedTimeMs: 0, recordTtlMs: 500, scheduler }),
      );
      const E = buffered(e, 2, 'high', { hashKey: new Uint8Array(16).fill(255), explicitHashKey: MAX_HASH_KEY.toString(), deadline: 2, expiration: 502 });
      expectObservable(result).toBe(expected, { E });
    });
  });

  it('turns an invalid record into a failed result and goes on', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const a = userRecord('a');
      const bad = userRecord('x'.repeat(257));
      const c = userRecord('b');
      const source = hot('-a-x-c-|', { a, x: bad, c });
      const expected = '  -A-X-C-|';
      const result = source.pipe(shardPredict({ shardMap: twoShardMap('low', 'high'), streamName: 'orders', scheduler }));
      const message = `partitionKey is "${'x'.repeat(77)}…" (257 chars); allowed: a string of 1–256 UTF-16 code units`;
      expectObservable(result).toBe(expected, {
        A: buffered(a, 1, SHARD_OF_A),
        X: failedAt(bad, 3, 'ValidationError', message),
        C: buffered(c, 5, SHARD_OF_B),
      });
    });
  });

  it("fails every record of a stream whose map failed for good, with the map's code", () => {
    scheduler.run(({ hot, expectObservable }) => {
      const a = userRecord('a', { streamName: 'gone' });
      const b = userRecord('b');
      const failure = { errorCode: 'ResourceNotFoundException', errorMessage: 'Stream gone not found' };
      const maps: Record<string, ReturnType<typeof twoShardMap>> = { gone: twoShardMap('low', 'high', failure), orders: twoShardMap('low', 'high') };
      const source = hot('-a-b-|', { a, b });
      const expected = '  -A-B-|';
      const result = source.pipe(shardPredict({ shardMap: (name) => maps[name], streamName: 'orders', scheduler }));
      expectObservable(result).toBe(expected, {
        A: failedAt(a, 1, 'ResourceNotFoundException', 'Stream gone not found'),
        B: buffered(b, 3, SHARD_OF_B),
      });
    });
  });

  it("leaves records unpredicted before the map's first load, and predicts them after", () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const listing = pages([shard(0, 0n, 1n << 127n), shard(1, (1n << 127n) + 1n, MAX_HASH_KEY)], 1000)[0];
      const fake = fakeClient(() => cold<ListShardsCommandOutput>('---r|', { r: listing }));
      const map = new ShardMap({ client: fake.client as ShardMapOptions['client'], streamName: 'orders', scheduler, refreshIntervalMs: 0 });
      void map.start();
      const a = userRecord('a');
      const source = hot('-a--a-|', { a });
      const expected = '  -A--B-|';
      //                   the map's answer lands at 3
      const result = source.pipe(shardPredict({ shardMap: map, streamName: 'orders', scheduler }));
      expectObservable(result).toBe(expected, { A: buffered(a, 1, undefined), B: buffered(a, 4, 'shardId-000000000000') });
    });
  });

  it('passes an error through', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const a = userRecord('a');
      const source = hot('-a-#', { a }, new Error('boom'));
      const result = source.pipe(shardPredict({ shardMap: twoShardMap('low', 'high'), streamName: 'orders', scheduler }));
      expectObservable(result).toBe('-A-#', { A: buffered(a, 1, SHARD_OF_A) }, new Error('boom'));
    });
  });

  it('completes with an empty source and stays silent with a silent one', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const op = shardPredict({ shardMap: twoShardMap(), streamName: 'orders', scheduler });
      expectObservable(cold<UserRecord>('|').pipe(op)).toBe('|');
      expectObservable(cold<UserRecord>('-').pipe(op)).toBe('-');
    });
  });

  it('unsubscribes the source when the result is unsubscribed', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const a = userRecord('a');
      const source = hot('-a-a-a-|', { a });
      const result = source.pipe(shardPredict({ shardMap: twoShardMap('low', 'high'), streamName: 'orders', scheduler }));
      expectObservable(result, '^--!').toBe('-A-', { A: buffered(a, 1, SHARD_OF_A) });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('errors the stream when the shardMap function throws (a caller bug, not a record failure)', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const boom = new Error('no map');
      const result = cold('-a|', { a: userRecord('a') }).pipe(
        shardPredict({
          shardMap: () => {
            throw boom;
          },
          streamName: 'orders',
          scheduler,
        }),
      );
      expectObservable(result).toBe('-#', undefined, boom);
    });
  });
});
