import fc from 'fast-check';
import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ValidationError } from '../../lib/config';
import { AggregateBuilder } from '../../lib/codec/aggregation';
import { aggregateByShard } from '../../lib/operators/aggregate-by-shard';
import { collectBatches, SHARD_FLUSH_BYTES, type CollectBatchesOptions } from '../../lib/operators/collect-batches';
import { buildKinesisRecord } from '../../lib/operators/internal/kinesis-record';
import type { BufferedRecord, KinesisRecord, PutRecordsBatch } from '../../lib/records';
import { bufferedRecord, bytes, deaggregateWithAwsKinesisAgg, SHARD_0, singleKinesisRecord, STREAM } from '../helpers/batching-records';

function run(records: KinesisRecord[], options: CollectBatchesOptions = {}): PutRecordsBatch[] {
  const scheduler = new TestScheduler(() => undefined);
  const out: PutRecordsBatch[] = [];
  const source = new Subject<KinesisRecord>();
  source.pipe(collectBatches({ scheduler, ...options })).subscribe((b) => out.push(b));
  records.forEach((r) => source.next(r));
  scheduler.flush();
  source.complete();
  return out;
}

const requestBytes = (batch: PutRecordsBatch): number =>
  batch.records.reduce((t, r) => t + Buffer.byteLength(r.partitionKey, 'utf8') + r.data.length, 0);

function aggregated(records: BufferedRecord[]): KinesisRecord {
  const builder = new AggregateBuilder();
  for (const r of records) builder.add(r.record.partitionKey, r.explicitHashKey, r.data);
  return buildKinesisRecord(records[0].streamName, records[0].predictedShard, records, builder.size);
}

describe('collectBatches', () => {
  it('rejects out-of-range limits with a ValidationError naming the field', () => {
    expect(() => collectBatches({ collectionMaxCount: 501 })).toThrow(ValidationError);
    expect(() => collectBatches({ collectionMaxSize: 5242881 })).toThrow(/collectionMaxSize/);
    expect(() => collectBatches({ recordMaxBufferedTimeMs: -1 })).toThrow(/recordMaxBufferedTimeMs/);
    // @ts-expect-error the scheduler belongs in the options
    expect(() => collectBatches({}, new TestScheduler(() => undefined))).not.toThrow();
  });

  it('counts a request as UTF-8 partition keys plus data, "a" for aggregated, explicit hash keys free (kpl.md §6)', () => {
    const single = singleKinesisRecord({ partitionKey: 'clé', data: 10, explicitHashKey: '12345' }); // 4 + 10
    const agg = aggregated([bufferedRecord({ partitionKey: 'x', data: 5 }), bufferedRecord({ partitionKey: 'y', data: 5 })]);
    const [batch] = run([single, agg]);
    expect(batch.size).toBe(4 + 10 + 1 + agg.data.length);
    expect(batch.size).toBe(requestBytes(batch));
    expect(batch.streamName).toBe(STREAM);
  });

  it('extends the deadline field of the record itself on entry', () => {
    const scheduler = new TestScheduler(() => undefined);
    const source = new Subject<KinesisRecord>();
    source.pipe(collectBatches({ scheduler })).subscribe();
    const kr = singleKinesisRecord({ deadline: 0 });
    source.next(kr);
    expect(kr.deadline).toBe(20); // now (0) + min(50, 0.2 × 100)
  });

  it('exports the 256 KiB per-shard threshold', () => {
    expect(SHARD_FLUSH_BYTES).toBe(262144);
  });

  it('never exceeds the count or size limit unless a request holds one record, never mixes streams, loses nothing', () => {
    const arbRecord = fc.record({
      length: fc.oneof(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 30000, max: 300000 })),
      shard: fc.integer({ min: 0, max: 3 }),
      stream: fc.integer({ min: 0, max: 1 }),
      deadline: fc.integer({ min: 0, max: 100 }),
      pk: fc.string({ minLength: 1, maxLength: 5 }),
    });
    fc.assert(
      fc.property(
        fc.array(arbRecord, { maxLength: 80 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 52224, max: 600000 }),
        fc.boolean(),
        (specs, maxCount, maxSize, aggregationEnabled) => {
          const records = specs.map((s, n) =>
            singleKinesisRecord({
              partitionKey: s.pk,
              data: bytes(s.length, n),
              predictedShard: s.shard === 3 ? null : `shard-${s.shard}`,
              streamName: `stream-${s.stream}`,
              deadline: s.deadline,
            }),
          );
          const out = run(records, { collectionMaxCount: maxCount, collectionMaxSize: maxSize, aggregationEnabled });
          const seen: KinesisRecord[] = [];
          for (const batch of out) {
            expect(batch.records.length).toBeGreaterThan(0);
            expect(batch.size).toBe(requestBytes(batch));
            if (batch.records.length > 1) {
              expect(batch.records.length).toBeLessThanOrEqual(maxCount);
              expect(batch.size).toBeLessThanOrEqual(maxSize);
            }
            for (const r of batch.records) expect(r.streamName).toBe(batch.streamName);
            const ds = batch.records.map((r) => Math.min(r.deadline, r.expiration));
            expect(ds).toEqual([...ds].sort((a, b) => a - b));
            seen.push(...batch.records);
          }
          expect(seen.length).toBe(records.length);
          expect(new Set(seen)).toEqual(new Set(records));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('with aggregateByShard, sends requests of ≤ 500 records and ≤ 5 MiB whose blobs deaggregate to the input', () => {
    // 12,000 records of 1–2,000 bytes over 300 keys and 4 shards (one unpredicted)
    const records = Array.from({ length: 12000 }, (_, n) =>
      bufferedRecord({
        partitionKey: `key-${n % 300}`,
        data: bytes(1 + ((n * 7919) % 2000), n),
        predictedShard: n % 4 === 3 ? null : `shard-${n % 4}`,
        deadline: n % 50,
      }),
    );
    const scheduler = new TestScheduler(() => undefined);
    const batches: PutRecordsBatch[] = [];
    const source = new Subject<BufferedRecord>();
    source.pipe(aggregateByShard({ scheduler }), collectBatches({ scheduler })).subscribe((b) => batches.push(b));
    records.forEach((r) => source.next(r));
    source.complete();
    const back: Uint8Array[] = [];
    for (const batch of batches) {
      expect(batch.records.length).toBeLessThanOrEqual(500);
      expect(batch.size).toBeLessThanOrEqual(5 * 1024 * 1024);
      expect(batch.size).toBe(requestBytes(batch));
      for (const kr of batch.records) {
        expect(kr.size).toBe(kr.data.length);
        if (kr.records.length > 1) expect(kr.size).toBeLessThanOrEqual(51200);
        const users = deaggregateWithAwsKinesisAgg(kr);
        expect(users.map((u) => u.partitionKey)).toEqual(kr.records.map((r) => r.record.partitionKey));
        back.push(...users.map((u) => u.data));
      }
    }
    const sent = batches.flatMap((b) => b.records.flatMap((kr) => kr.records));
    expect(sent.length).toBe(records.length);
    expect(new Set(sent)).toEqual(new Set(records));
    const key = (d: Uint8Array) => Buffer.from(d).toString('base64');
    expect(back.map(key).sort()).toEqual(records.map((r) => key(r.data)).sort());
  });
});

describe('collectBatches timers (jest fake timers)', () => {
  afterEach(() => jest.useRealTimers());

  it('leaves no timer behind when the result is unsubscribed', () => {
    jest.useFakeTimers(); // asyncScheduler runs on setInterval, which jest counts
    const source = new Subject<KinesisRecord>();
    const subscription = source.pipe(collectBatches()).subscribe();
    source.next(singleKinesisRecord({ arrival: Date.now(), deadline: Date.now() + 100 }));
    source.next(singleKinesisRecord({ arrival: Date.now(), deadline: Date.now() + 100, streamName: 'other' }));
    expect(jest.getTimerCount()).toBe(2); // one per stream with records waiting
    subscription.unsubscribe();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('fires on the real clock at the extended deadline and then holds no timer', () => {
    jest.useFakeTimers();
    const out: PutRecordsBatch[] = [];
    const source = new Subject<KinesisRecord>();
    source.pipe(collectBatches()).subscribe((b) => out.push(b));
    source.next(singleKinesisRecord({ arrival: Date.now(), deadline: Date.now(), predictedShard: SHARD_0 }));
    jest.advanceTimersByTime(19);
    expect(out).toHaveLength(0);
    jest.advanceTimersByTime(1);
    expect(out).toHaveLength(1);
    expect(jest.getTimerCount()).toBe(0);
  });
});
