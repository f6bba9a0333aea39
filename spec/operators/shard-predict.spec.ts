import { of, type SchedulerLike, asyncScheduler } from 'rxjs';
import { ValidationError } from '../../lib/config';
import { predictAgain, recordPredictor, shardPredict } from '../../lib/operators/shard-predict';
import type { BufferedRecord, RecordResult, UserRecord } from '../../lib/records';
import { hashKeyOfPartitionKey } from '../../lib/codec/hash';
import { twoShardMap, userRecord } from '../helpers/shards-records';

function fixedClock(now: number): SchedulerLike {
  return { now: () => now, schedule: asyncScheduler.schedule.bind(asyncScheduler) } as SchedulerLike;
}

function collect(values: Iterable<unknown>, op: ReturnType<typeof shardPredict>): (BufferedRecord | RecordResult)[] {
  const out: (BufferedRecord | RecordResult)[] = [];
  of(...(values as UserRecord[]))
    .pipe(op)
    .subscribe((v) => out.push(v));
  return out;
}

const retried = (over: Partial<BufferedRecord> = {}): BufferedRecord => ({
  record: userRecord('a'),
  streamName: 'orders',
  data: new Uint8Array([1]),
  hashKey: hashKeyOfPartitionKey('a'),
  explicitHashKey: undefined,
  predictedShard: 'old',
  arrival: 10,
  deadline: 60,
  expiration: 30010,
  attempts: [{ startedAt: 100, endedAt: 150, delayMs: 90, durationMs: 50, success: false, errorCode: 'Wrong Shard' }],
  ...over,
});

describe('shardPredict', () => {
  it.each([
    ['recordTtlMs', { recordTtlMs: 99 }],
    ['recordMaxBufferedTimeMs', { recordMaxBufferedTimeMs: -1 }],
    ['maxUserRecordSize', { maxUserRecordSize: 63 }],
    ['shardMap', { shardMap: {} }],
    ['streamName', { streamName: '' }],
  ])('refuses a bad %s when created', (field, bad) => {
    expect(() => shardPredict({ shardMap: twoShardMap(), ...bad } as never)).toThrow(expect.objectContaining({ name: 'ValidationError', field }));
  });

  it('caps deadline and expiration at Number.MAX_SAFE_INTEGER', () => {
    const now = Number.MAX_SAFE_INTEGER - 10;
    const [out] = collect([userRecord('a')], shardPredict({ shardMap: twoShardMap(), streamName: 's', recordTtlMs: 86400000, scheduler: fixedClock(now) }));
    expect(out).toMatchObject({ arrival: now, deadline: Number.MAX_SAFE_INTEGER, expiration: Number.MAX_SAFE_INTEGER });
  });

  it('keeps the same record object and data bytes (no copy)', () => {
    const data = new Uint8Array([7, 8]);
    const record = { partitionKey: 'k', data };
    const [out] = collect([record], shardPredict({ shardMap: twoShardMap(), streamName: 's' }));
    expect((out as BufferedRecord).record).toBe(record);
    expect((out as BufferedRecord).data).toBe(data);
    // The size rides on the carrier (read later, at result time, without touching the user's bytes).
    expect((out as BufferedRecord).dataBytes).toBe(2);
  });

  it('gives a string record the size of its UTF-8 encoding, and its carrier the token of recordPredictor', () => {
    const predict = recordPredictor({ shardMap: twoShardMap(), streamName: 's' });
    const token = {};
    const out = predict({ partitionKey: 'k', data: 'né' }, token, 5) as BufferedRecord;
    expect(out.dataBytes).toBe(3);
    expect(out.token).toBe(token);
    expect(out.arrival).toBe(5);
  });

  // String data takes the plain-record path when it is surely within the limit (3 bytes per unit at
  // most) and prepareRecord otherwise: both must give the same bytes, size and refusals.
  it.each([
    ['ASCII', 'hello'],
    ['two- and three-byte characters', 'né€'],
    ['a surrogate pair', 'a😀b'],
    ['long enough for the native count', `${'x'.repeat(40)}é😀`],
  ])('encodes string data (%s) as its UTF-8 bytes, on either path', (_, data) => {
    const expected = new TextEncoder().encode(data);
    for (const maxUserRecordSize of [1048576, expected.length]) {
      // At 1 MiB the plain path takes it; at exactly its byte length (below 3 × its units) prepareRecord does.
      const [out] = collect([{ partitionKey: 'k', data }], shardPredict({ shardMap: twoShardMap(), streamName: 's', maxUserRecordSize: Math.max(64, maxUserRecordSize) }));
      expect(Buffer.from((out as BufferedRecord).data).equals(Buffer.from(expected))).toBe(true);
      expect((out as BufferedRecord).dataBytes).toBe(expected.length);
    }
  });

  it('refuses string data with a lone surrogate as a failed result, on either path', () => {
    for (const maxUserRecordSize of [1048576, 64]) {
      const data = `${'x'.repeat(30)}\uD800`; // 31 units: 93 ≤ 1 MiB takes the plain path, 93 > 64 prepareRecord
      const [out] = collect([{ partitionKey: 'k', data }], shardPredict({ shardMap: twoShardMap(), streamName: 's', maxUserRecordSize }));
      expect(out).toMatchObject({ success: false, errorCode: 'ValidationError' });
      expect((out as RecordResult).errorMessage).toMatch(/^data .*well-formed UTF-16/);
    }
  });

  it('measures string data exactly against maxUserRecordSize (a string of 64 bytes passes at 64, 65 bytes fails)', () => {
    const op = shardPredict({ shardMap: twoShardMap(), streamName: 's', maxUserRecordSize: 64 });
    const [fits, over] = collect([{ partitionKey: 'k', data: 'é'.repeat(32) }, { partitionKey: 'k', data: `${'é'.repeat(32)}x` }], op);
    expect((fits as BufferedRecord).dataBytes).toBe(64);
    expect(over).toMatchObject({ success: false, errorCode: 'ValidationError' });
    expect((over as RecordResult).errorMessage).toMatch(/at most 64 bytes \(this string is 65 bytes as UTF-8\)/);
  });

  it('refuses data over maxUserRecordSize as a failed result', () => {
    const [out] = collect([{ partitionKey: 'k', data: new Uint8Array(65) }], shardPredict({ shardMap: twoShardMap(), streamName: 's', maxUserRecordSize: 64 }));
    expect(out).toMatchObject({ success: false, errorCode: 'ValidationError', errorMessage: 'data is Uint8Array(65); allowed: at most 64 bytes' });
  });

  it('refuses a byte record whose partition key has a lone surrogate as a failed result (the plain-record path checks it too)', () => {
    const [out] = collect([{ partitionKey: 'a\uD800', data: new Uint8Array(1) }], shardPredict({ shardMap: twoShardMap(), streamName: 's' }));
    expect(out).toMatchObject({ success: false, errorCode: 'ValidationError' });
    expect((out as RecordResult).errorMessage).toMatch(/^partitionKey .*well-formed UTF-16/);
  });

  it('fails a record naming no stream when there is no default', () => {
    const [out] = collect([userRecord('a')], shardPredict({ shardMap: twoShardMap() }));
    expect(out).toMatchObject({ success: false, errorCode: 'ValidationError' });
    expect((out as RecordResult).errorMessage).toMatch(/^streamName is undefined/);
  });

  it('pins its types', () => {
    // @ts-expect-error the scheduler belongs in the options
    expect(() => shardPredict({ shardMap: twoShardMap() }, asyncScheduler)).not.toThrow();
    // @ts-expect-error a shard map must offer predictKey and failure
    expect(() => shardPredict({ shardMap: { predict: () => 'x' } })).toThrow(ValidationError);
  });
});

describe('predictAgain', () => {
  it('predicts a retried record again, keeping its times, attempts, size and token', () => {
    const record = retried({ dataBytes: 1, token: 'put-7' });
    const again = predictAgain(record, twoShardMap('new', 'new')) as BufferedRecord;
    expect(again).toEqual({ ...record, predictedShard: 'new' });
    expect(again.attempts).toBe(record.attempts);
  });

  it('returns the same carrier when the prediction did not change', () => {
    const record = retried({ predictedShard: 'same' });
    expect(predictAgain(record, twoShardMap('same', 'same'))).toBe(record);
  });

  it('fails it when the map failed for good, keeping its attempts plus one', () => {
    const failure = { errorCode: 'ResourceNotFoundException', errorMessage: 'gone' };
    const result = predictAgain(retried(), twoShardMap('x', 'x', failure), 200) as RecordResult;
    expect(result).toEqual({
      record: retried().record,
      success: false,
      errorCode: 'ResourceNotFoundException',
      errorMessage: 'gone',
      attempts: [
        ...retried().attempts,
        { startedAt: 200, endedAt: 200, delayMs: 50, durationMs: 0, success: false, errorCode: 'ResourceNotFoundException', errorMessage: 'gone' },
      ],
    });
  });
});
