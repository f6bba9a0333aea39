import fc from 'fast-check';
import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ValidationError } from '../../lib/config';
import { AggregateBuilder } from '../../lib/codec/aggregation';
import { aggregateByShard, type AggregateByShardOptions } from '../../lib/operators/aggregate-by-shard';
import { buildKinesisRecord } from '../../lib/operators/internal/kinesis-record';
import type { BufferedRecord, KinesisRecord } from '../../lib/records';
import {
  bufferedRecord,
  bytes,
  decimalHashKey,
  deaggregateWithAwsKinesisAgg,
  SHARD_0,
  SHARD_1,
  STREAM,
} from '../helpers/batching-records';

/** Runs records through the operator on a virtual scheduler, firing every timer at the end. */
function run(records: BufferedRecord[], options: AggregateByShardOptions = {}): KinesisRecord[] {
  const scheduler = new TestScheduler(() => undefined);
  const out: KinesisRecord[] = [];
  const source = new Subject<BufferedRecord>();
  source.pipe(aggregateByShard({ scheduler, ...options })).subscribe((kr) => out.push(kr));
  records.forEach((r) => source.next(r));
  scheduler.flush();
  source.complete();
  return out;
}

function sizeOf(records: BufferedRecord[]): number {
  const builder = new AggregateBuilder();
  for (const r of records) builder.add(r.record.partitionKey, r.explicitHashKey, r.data);
  return builder.size;
}

describe('buildKinesisRecord', () => {
  it('sends a lone record raw, under its own partition key, with its hash key as the explicit hash key (kpl.md §2)', () => {
    const r = bufferedRecord({ partitionKey: 'alpha', data: 'hello', deadline: 50, expiration: 900 });
    const kr = buildKinesisRecord(STREAM, SHARD_0, [r], 5);
    expect(kr).toEqual({
      streamName: STREAM,
      predictedShard: SHARD_0,
      records: [r],
      partitionKey: 'alpha',
      explicitHashKey: decimalHashKey('alpha'),
      data: r.data,
      size: 5,
      deadline: 50,
      expiration: 900,
    });
    expect(kr.data).toBe(r.data); // not copied
  });

  it('encodes from the staged builder it is given, and refuses one that holds other records', () => {
    const records = [bufferedRecord({ partitionKey: 'alpha', data: 'x' }), bufferedRecord({ partitionKey: 'beta', data: 'y' })];
    const builder = new AggregateBuilder();
    for (const r of records) builder.add(r.record.partitionKey, r.explicitHashKey, r.data);
    const size = sizeOf(records);
    expect(Buffer.from(buildKinesisRecord(STREAM, SHARD_0, records, size, undefined, builder).data)).toEqual(
      Buffer.from(buildKinesisRecord(STREAM, SHARD_0, records, size).data),
    );
    builder.add('gamma', undefined, 'z');
    expect(() => buildKinesisRecord(STREAM, SHARD_0, records, size, undefined, builder)).toThrow('3 records planned for 2');
  });

  it("uses a user's explicit hash key as it is", () => {
    const r = bufferedRecord({ partitionKey: 'alpha', explicitHashKey: '12345' });
    expect(buildKinesisRecord(STREAM, SHARD_0, [r], r.data.length).explicitHashKey).toBe('12345');
  });

  it('aggregates several records under "a", routed by the first record\'s hash key', () => {
    const records = [
      bufferedRecord({ partitionKey: 'alpha', data: 'hello', deadline: 30, expiration: 500 }),
      bufferedRecord({ partitionKey: 'beta', data: 'world', explicitHashKey: '12345', deadline: 20, expiration: 800 }),
      bufferedRecord({ partitionKey: 'alpha', data: '!', deadline: 40, expiration: 400 }),
    ];
    const kr = buildKinesisRecord(STREAM, SHARD_0, records, sizeOf(records));
    expect(kr.partitionKey).toBe('a');
    expect(kr.explicitHashKey).toBe(decimalHashKey('alpha'));
    // node-testing.md §3 reference vector: the same three records encode to these 71 bytes
    expect(Buffer.from(kr.data).toString('hex')).toBe(
      'f3899ac2' + '0a05616c706861' + '0a0462657461' + '12053132333435' +
        '1a0908001a0568656c6c6f' + '1a0b080110001a05776f726c64' + '1a0508001a0121' +
        '11269067d126ed775665423b5929b918',
    );
    expect(kr.size).toBe(71);
    expect(kr.size).toBe(kr.data.length);
    expect(kr.deadline).toBe(20);
    expect(kr.expiration).toBe(400);
  });

  it('clamps the deadline to the earliest expiration', () => {
    const records = [bufferedRecord({ deadline: 300, expiration: 900 }), bufferedRecord({ deadline: 400, expiration: 200 })];
    expect(buildKinesisRecord(STREAM, SHARD_0, records, sizeOf(records)).deadline).toBe(200);
  });

  it('throws on a size that is not the exact size (a bug, never data)', () => {
    const one = [bufferedRecord({ data: 10 })];
    expect(() => buildKinesisRecord(STREAM, SHARD_0, one, 11)).toThrow(/size 11/);
    const two = [bufferedRecord({ data: 10 }), bufferedRecord({ data: 10 })];
    expect(() => buildKinesisRecord(STREAM, SHARD_0, two, sizeOf(two) + 1)).toThrow(/size/);
  });
});

describe('aggregateByShard', () => {
  it('rejects out-of-range limits with a ValidationError naming the field', () => {
    expect(() => aggregateByShard({ aggregationMaxSize: 10 })).toThrow(ValidationError);
    expect(() => aggregateByShard({ aggregationMaxCount: 0 })).toThrow(/aggregationMaxCount/);
    // @ts-expect-error the options are one object, not a positional scheduler
    expect(() => aggregateByShard({}, new TestScheduler(() => undefined))).not.toThrow();
  });

  it('never aggregates records of different shards or streams together', () => {
    const records = [
      bufferedRecord({ partitionKey: 'a' }),
      bufferedRecord({ partitionKey: 'b', predictedShard: SHARD_1 }),
      bufferedRecord({ partitionKey: 'c', streamName: 'other' }),
      bufferedRecord({ partitionKey: 'd' }),
    ];
    const out = run(records);
    const groups = out.map((kr) => `${kr.streamName}/${kr.predictedShard}:${kr.records.map((r) => r.record.partitionKey).join('')}`);
    expect(groups.sort()).toEqual([`other/${SHARD_0}:c`, `${STREAM}/${SHARD_0}:ad`, `${STREAM}/${SHARD_1}:b`]);
  });

  it('sends unpredicted records alone, each under its own key (aiokpl B1)', () => {
    const records = ['alpha', 'beta', 'gamma'].map((pk) => bufferedRecord({ partitionKey: pk, predictedShard: null }));
    const out = run(records);
    expect(out.map((kr) => [kr.partitionKey, kr.explicitHashKey, kr.predictedShard, kr.records.length])).toEqual([
      ['alpha', decimalHashKey('alpha'), undefined, 1],
      ['beta', decimalHashKey('beta'), undefined, 1],
      ['gamma', decimalHashKey('gamma'), undefined, 1],
    ]);
  });

  it('keeps the predicted shard of records sent alone because aggregation is off', () => {
    const out = run([bufferedRecord({ partitionKey: 'a' }), bufferedRecord({ partitionKey: 'b' })], { aggregationEnabled: false });
    expect(out.map((kr) => [kr.partitionKey, kr.predictedShard])).toEqual([
      ['a', SHARD_0],
      ['b', SHARD_0],
    ]);
  });

  it('re-enters safely: a record pushed back in while a batch is emitted joins the next batch', () => {
    const scheduler = new TestScheduler(() => undefined);
    const source = new Subject<BufferedRecord>();
    const out: string[] = [];
    source.pipe(aggregateByShard({ scheduler, aggregationMaxCount: 2 })).subscribe((kr) => {
      out.push(kr.records.map((r) => r.record.partitionKey).join(''));
      if (out.length === 1) source.next(bufferedRecord({ partitionKey: 'retry' }));
    });
    source.next(bufferedRecord({ partitionKey: 'a' }));
    source.next(bufferedRecord({ partitionKey: 'b' }));
    source.next(bufferedRecord({ partitionKey: 'c' }));
    source.complete();
    expect(out).toEqual(['ab', 'retryc']);
  });

  it('emits aggregated records within aggregationMaxSize that deaggregate to exactly the input (aws-kinesis-agg)', () => {
    const arbRecord = fc.record({
      key: fc.integer({ min: 0, max: 40 }),
      length: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1000, max: 3000 })),
      ehk: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
      shard: fc.integer({ min: 0, max: 2 }),
      deadline: fc.integer({ min: 0, max: 200 }),
      expiration: fc.integer({ min: 100, max: 400 }),
    });
    fc.assert(
      fc.property(fc.array(arbRecord, { maxLength: 120 }), fc.integer({ min: 64, max: 2500 }), fc.integer({ min: 1, max: 50 }), (specs, maxSize, maxCount) => {
        const records = specs.map((s, n) =>
          bufferedRecord({
            partitionKey: `key-${s.key}-${'é'.repeat(s.key % 3)}`,
            data: bytes(s.length, n),
            explicitHashKey: s.ehk === undefined ? undefined : String(s.ehk * 1e30),
            predictedShard: s.shard === 2 ? null : `shard-${s.shard}`,
            deadline: s.deadline,
            expiration: s.expiration,
          }),
        );
        const out = run(records, { aggregationMaxSize: maxSize, aggregationMaxCount: maxCount });
        const seen: BufferedRecord[] = [];
        for (const kr of out) {
          expect(kr.size).toBe(kr.data.length);
          expect(kr.records.length).toBeGreaterThan(0);
          if (kr.records.length > 1) {
            expect(kr.size).toBeLessThanOrEqual(maxSize);
            expect(kr.records.length).toBeLessThanOrEqual(maxCount);
            expect(kr.partitionKey).toBe('a');
            const back = deaggregateWithAwsKinesisAgg(kr);
            expect(back.length).toBe(kr.records.length);
            back.forEach((u, i) => {
              const r = kr.records[i];
              expect(u.partitionKey).toBe(r.record.partitionKey);
              expect(Buffer.from(u.data).equals(Buffer.from(r.data))).toBe(true);
              if (r.explicitHashKey !== undefined) expect(u.explicitHashKey).toBe(r.explicitHashKey);
            });
          } else {
            expect(kr.data).toBe(kr.records[0].data);
            expect(kr.partitionKey).toBe(kr.records[0].record.partitionKey);
          }
          for (const r of kr.records) expect(r.predictedShard).toBe(kr.predictedShard);
          expect(kr.expiration).toBe(Math.min(...kr.records.map((r) => r.expiration)));
          expect(kr.deadline).toBe(Math.min(...kr.records.map((r) => Math.min(r.deadline, r.expiration))));
          expect(kr.explicitHashKey).toBe(kr.records[0].explicitHashKey ?? decimalHashKey(kr.records[0].record.partitionKey));
          seen.push(...kr.records);
        }
        expect(seen.length).toBe(records.length);
        expect(new Set(seen)).toEqual(new Set(records));
      }),
      { numRuns: 150 },
    );
  });

  it('fills aggregated records close to aggregationMaxSize', () => {
    const records = Array.from({ length: 2000 }, (_, n) => bufferedRecord({ partitionKey: `key-${n % 100}`, data: bytes(100, n) }));
    const out = run(records);
    const full = out.slice(0, -1); // the last one is what completion flushed
    for (const kr of full) expect(kr.size / 51200).toBeGreaterThan(0.99);
  });
});

describe('aggregateByShard timers (jest fake timers)', () => {
  afterEach(() => jest.useRealTimers());

  it('leaves no timer behind when the result is unsubscribed', () => {
    jest.useFakeTimers(); // asyncScheduler runs on setInterval, which jest counts
    const source = new Subject<BufferedRecord>();
    const subscription = source.pipe(aggregateByShard()).subscribe();
    source.next(bufferedRecord({ arrival: Date.now(), deadline: Date.now() + 100 }));
    source.next(bufferedRecord({ arrival: Date.now(), deadline: Date.now() + 100, predictedShard: SHARD_1 }));
    expect(jest.getTimerCount()).toBe(2); // one per shard with records waiting
    subscription.unsubscribe();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('leaves no timer behind after the source errors', () => {
    jest.useFakeTimers();
    const source = new Subject<BufferedRecord>();
    const errors: unknown[] = [];
    source.pipe(aggregateByShard()).subscribe({ error: (e: unknown) => errors.push(e) });
    source.next(bufferedRecord({ arrival: Date.now(), deadline: Date.now() + 100 }));
    source.error(new Error('boom'));
    expect(errors).toHaveLength(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('fires on the real clock at the deadline', () => {
    jest.useFakeTimers();
    const out: KinesisRecord[] = [];
    const source = new Subject<BufferedRecord>();
    source.pipe(aggregateByShard()).subscribe((kr) => out.push(kr));
    source.next(bufferedRecord({ arrival: Date.now(), deadline: Date.now() + 100 }));
    jest.advanceTimersByTime(99);
    expect(out).toHaveLength(0);
    jest.advanceTimersByTime(1);
    expect(out).toHaveLength(1);
    expect(jest.getTimerCount()).toBe(0);
  });
});
