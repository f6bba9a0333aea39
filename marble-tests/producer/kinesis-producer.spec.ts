import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { kinesisProducer } from '../../lib/producer/kinesis-producer';
import type { RecordResult } from '../../lib/records';
import { fakeKinesisClient } from '../../spec/helpers/producer-fake-client';

const summary = (r: RecordResult): string =>
  `${r.record.partitionKey}:${r.success ? 'ok' : r.errorCode}:${r.attempts.length}`;

describe('kinesisProducer (virtual time, fake client)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  it('emits results after recordMaxBufferedTimeMs, the collector extension and the round trip', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const { client, calls } = fakeKinesisClient({ cold, now: () => scheduler.now() });
      const source = cold('--a-b 200ms |', { a: { partitionKey: 'a', data: 'x' }, b: { partitionKey: 'b', data: 'y' } });
      //                    a at 2: aggregator deadline 2 + 100 = 102; collector extends to 102 + min(50, 0.2 × 100) = 122;
      //                    PutRecords answers 4 frames later: 126. The source completes at 205.
      const result = source.pipe(
        kinesisProducer({ client, streamName: 's', scheduler, recordMaxBufferedTimeMs: 100 }),
        map(summary),
      );
      expectObservable(result).toBe('126ms (xy) 75ms |', { x: 'a:ok:1', y: 'b:ok:1' });
      scheduler.flush();
      expect(calls).toHaveLength(1);
      expect(calls[0].at).toBe(122);
      // a and b share one shard: one aggregated Kinesis record (PK "a"), as kpl.md §2
      expect(calls[0].input.Records).toHaveLength(1);
      expect(calls[0].input.Records?.[0].PartitionKey).toBe('a');
    });
  });

  it('sends what is buffered at once when the source completes, and completes after the last result', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const { client } = fakeKinesisClient({ cold, now: () => scheduler.now() });
      const source = cold('--a|', { a: { partitionKey: 'a', data: 'x' } });
      //                    complete at 3 flushes the aggregator; collector extension 20 → sent at 23, answered at 27
      const result = source.pipe(kinesisProducer({ client, streamName: 's', scheduler }), map(summary));
      expectObservable(result).toBe('27ms (x|)', { x: 'a:ok:1' });
    });
  });

  it('brings a retried record back through the aggregator and records both attempts', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const { client, calls } = fakeKinesisClient({
        cold,
        now: () => scheduler.now(),
        errorFor: (call) => (call === 0 ? 'InternalFailure' : undefined),
      });
      const source = cold('--a 300ms |', { a: { partitionKey: 'a', data: 'x' } });
      //                    first attempt sent at 122, fails at 126; backoff with random() = 0 → deadline 126;
      //                    aggregator flushes at 126, collector extends to 146, answer at 150.
      const result = source.pipe(
        kinesisProducer({ client, streamName: 's', scheduler, random: () => 0 }),
        map((r) => `${summary(r)}:${r.attempts.map((a) => a.errorCode ?? 'ok').join('/')}`),
      );
      expectObservable(result).toBe('150ms x 152ms |', { x: 'a:ok:2:InternalFailure/ok' });
      scheduler.flush();
      expect(calls.map((c) => c.at)).toEqual([122, 146]);
    });
  });

  it('fails a bad record at once and goes on with the others', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const { client } = fakeKinesisClient({ cold, now: () => scheduler.now() });
      const source = cold('--ab|', { a: { partitionKey: '', data: 'x' }, b: { partitionKey: 'b', data: 'y' } });
      const result = source.pipe(kinesisProducer({ client, streamName: 's', scheduler }), map(summary));
      //                   the empty key fails at 2; b is flushed by completion at 4, sent at 24, answered at 28
      expectObservable(result).toBe('--x 25ms (y|)', { x: ':ValidationError:1', y: 'b:ok:1' });
    });
  });

  it("fails records beyond maxOutstandingRecords with 'Backpressure' by default", () => {
    scheduler.run(({ cold, expectObservable }) => {
      const { client } = fakeKinesisClient({ cold, now: () => scheduler.now() });
      const source = cold('--(abc)|', { a: { partitionKey: 'a', data: 'x' }, b: { partitionKey: 'b', data: 'y' }, c: { partitionKey: 'c', data: 'z' } });
      const result = source.pipe(
        kinesisProducer({ client, streamName: 's', scheduler, maxOutstandingRecords: 2 }),
        map(summary),
      );
      //                   c is refused at 2; a and b are flushed at completion (7), sent at 27, answered at 31
      expectObservable(result).toBe('--x 28ms (yz|)', { x: 'c:Backpressure:1', y: 'a:ok:1', z: 'b:ok:1' });
    });
  });

  it("queues records beyond maxOutstandingRecords with overflow 'buffer' and sends them as room frees", () => {
    scheduler.run(({ cold, expectObservable }) => {
      const { client, calls } = fakeKinesisClient({ cold, now: () => scheduler.now() });
      const source = cold('--(ab)|', { a: { partitionKey: 'a', data: 'x' }, b: { partitionKey: 'b', data: 'y' } });
      const result = source.pipe(
        kinesisProducer({ client, streamName: 's', scheduler, maxOutstandingRecords: 1, overflow: 'buffer' }),
        map(summary),
      );
      //                   a flushed at completion (6), sent 26, answered 30; b admitted at 30, deadline 130,
      //                   collector extension 150, answered 154
      expectObservable(result).toBe('30ms x 123ms (y|)', { x: 'a:ok:1', y: 'b:ok:1' });
      scheduler.flush();
      expect(calls).toHaveLength(2);
    });
  });

  it('refuses a bad option at construction with a ValidationError naming it', () => {
    const { client } = fakeKinesisClient({ cold: (() => undefined) as never, now: () => 0 });
    expect(() => kinesisProducer({ client, streamName: 's', aggregationMaxSize: 10 })).toThrow(/aggregationMaxSize is 10; allowed/);
    expect(() => kinesisProducer({ client: {} as never })).toThrow(/client/);
    // @ts-expect-error overflow has two values
    expect(() => kinesisProducer({ client, overflow: 'drop' })).toThrow(/overflow/);
  });
});
