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
      const source = cold('--a 10ms b-c 200ms |', {
        a: { partitionKey: 'k1', data: 'x' },
        b: { partitionKey: 'k2', data: 'y' },
        c: { partitionKey: 'k3', data: 'z' },
      });
      // a at 2 creates the stream's pipeline; it waits for the ShardMap's first load (answered at 3) so it is
      //   predicted and can be aggregated (the KPL would send it alone and unpredicted, kpl.md §6). Its
      //   arrival stays 2, its put time: the wait counts in its buffering time.
      // a (arrival 2), b (13) and c (15) share the one shard: one aggregated record, deadline 2 + 100 = 102;
      //   the collector extends it to 102 + min(50, 0.2 × 100) = 122 (kpl.md §5, #280); answered at 126.
      //   The source ends at 216.
      const result = source.pipe(
        kinesisProducer({ client, streamName: 's', scheduler, recordMaxBufferedTimeMs: 100 }),
        map(summary),
      );
      expectObservable(result).toBe('126ms (xyz) 85ms |', { x: 'k1:ok:1', y: 'k2:ok:1', z: 'k3:ok:1' });
      scheduler.flush();
      expect(calls.map((c) => c.at)).toEqual([122]);
      // one aggregated Kinesis record, PK "a" (kpl.md §2)
      expect(calls[0].input.Records?.map((r) => r.PartitionKey)).toEqual(['a']);
    });
  });

  it('sends a new stream\'s first records unpredicted when its shard map does not load within 1 s', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const { client, calls } = fakeKinesisClient({ cold, now: () => scheduler.now(), listShardsMarbles: '-' });
      const source = cold('--ab 2s |', { a: { partitionKey: 'k1', data: 'x' }, b: { partitionKey: 'k2', data: 'y' } });
      // held from 2 until 2 + 1000 = 1002, then unpredicted: each alone (never aggregated across shards,
      // aiokpl B1). Their arrival stays 2 (put time), so their deadline 102 has passed: the collector
      // gives them its 20 ms extension, one request at 1022, answered at 1026.
      const result = source.pipe(kinesisProducer({ client, streamName: 's', scheduler }), map(summary));
      expectObservable(result).toBe('1026ms (xy) 974ms |', { x: 'k1:ok:1', y: 'k2:ok:1' });
      scheduler.flush();
      expect(calls.map((c) => c.at)).toEqual([1022]);
      expect(calls[0].input.Records?.map((r) => r.PartitionKey)).toEqual(['k1', 'k2']);
    });
  });

  it('sends what is buffered at once when the source completes, and completes after the last result', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const { client, calls } = fakeKinesisClient({ cold, now: () => scheduler.now() });
      const source = cold('--a 5ms b|', { a: { partitionKey: 'a', data: 'x' }, b: { partitionKey: 'b', data: 'y' } });
      //                    completion at 9 flushes the aggregator and the collector: one request at 9, answered at 13
      const result = source.pipe(kinesisProducer({ client, streamName: 's', scheduler }), map(summary));
      expectObservable(result).toBe('13ms (xy|)', { x: 'a:ok:1', y: 'b:ok:1' });
      scheduler.flush();
      expect(calls.map((c) => c.at)).toEqual([9]);
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
      // a waits for the map (3), arrival 2: deadline 102, extended to 122, fails at 126; backoff with
      // random() = 0 gives deadline 126; predicted again, flushed at 126, extended to 146, answered at 150.
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
      // both wait for the map (3): the empty key fails then; b is flushed by completion at 4, answered at 8
      expectObservable(result).toBe('---x 4ms (y|)', { x: ':ValidationError:1', y: 'b:ok:1' });
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
      //                   c is refused at 2; a and b are flushed at completion (7) and answered at 11
      expectObservable(result).toBe('--x 8ms (yz|)', { x: 'c:Backpressure:1', y: 'a:ok:1', z: 'b:ok:1' });
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
      // a is flushed at completion (6), answered at 10; b is admitted at 10 and waits its own deadline:
      // 10 + 100 = 110, extended by the collector to 130, answered at 134
      expectObservable(result).toBe('10ms x 123ms (y|)', { x: 'a:ok:1', y: 'b:ok:1' });
      scheduler.flush();
      expect(calls).toHaveLength(2);
    });
  });

  it('counts outstanding records and data bytes in and back out to zero (UTF-8 strings, bytes, a retry, a bad record, a queued record)', () => {
    scheduler.run(({ cold }) => {
      const { client } = fakeKinesisClient({
        cold,
        now: () => scheduler.now(),
        errorFor: (call) => (call === 0 ? 'InternalFailure' : undefined),
      });
      const source = cold('--(abcd)|', {
        a: { partitionKey: 'a', data: 'é€😀' }, // 2 + 3 + 4 = 9 bytes of UTF-8
        b: { partitionKey: 'b', data: new Uint8Array(5) },
        c: { partitionKey: '', data: 'xyz' }, // fails validation: 3 bytes counted, then released
        d: { partitionKey: 'd', data: 'qq' }, // queued: the producer holds 3 records already
      });
      const producer = kinesisProducer({ client, streamName: 's', scheduler, random: () => 0, maxOutstandingRecords: 3, overflow: 'buffer' });
      const counts: string[] = [];
      producer.outstanding$.subscribe(({ records, bytes }) => counts.push(`${records}/${bytes}`));
      const results: string[] = [];
      source.pipe(producer).subscribe((r) => results.push(summary(r)));
      scheduler.flush();
      expect(results.sort()).toEqual([':ValidationError:1', 'a:ok:2', 'b:ok:2', 'd:ok:2']);
      // a, b, c admitted (9, 14, 17 bytes); c fails at the map's load; d (2 bytes) takes its room; then
      // a, b and d (one request, failed once, retried) finish, down to nothing.
      expect(counts.slice(0, 6)).toEqual(['0/0', '1/9', '2/14', '3/17', '2/14', '3/16']);
      expect(counts[counts.length - 1]).toBe('0/0');
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
