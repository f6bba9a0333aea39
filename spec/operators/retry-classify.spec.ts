import { ValidationError } from '../../lib/config';
import { from } from 'rxjs';
import { DEFAULT_MAX_BACKOFF_MS, retrierOf, retryClassify, RetryClassifyOptions, ThrottleSignal } from '../../lib/operators/retry-classify';
import { NON_RETRYABLE_ERROR_CODES } from '../../lib/operators/internal/retry-table';
import type { Attempt, BufferedRecord, Classified, SendOutcome } from '../../lib/records';
import { dataBytesOf } from '../../lib/operators/internal/attempts';
import {
  answered,
  batchOf,
  batchOfSingles,
  bufferedRecord,
  failed,
  fixedClock,
  HALF,
  kinesisRecord,
  ok,
  recordingShardMap,
  results,
  retries,
  runSync,
  SHARD_0,
  SHARD_1,
  SHARD_2,
  STREAM,
  unanswered,
} from '../helpers/retrier-builders';

/** Classifies outcomes at `now` (default 30, the builders' endedAt) with a constant jitter of 0.5. */
function classify(outcomes: SendOutcome | SendOutcome[], options: RetryClassifyOptions = {}, now = 30): Classified[] {
  return runSync(Array.isArray(outcomes) ? outcomes : [outcomes], retryClassify({ random: () => 0.5, scheduler: fixedClock(now), ...options }));
}

// Request sent at 10, answered at 30; records arrived at 0: delayMs 10, durationMs 20.
const TIMES = { startedAt: 10, endedAt: 30, delayMs: 10, durationMs: 20 };

describe('retryClassify (kpl.md §8 table, row by row)', () => {
  describe('per-record success', () => {
    it('succeeds with shard id and sequence number when predicted equals actual', () => {
      const ur = bufferedRecord({ key: 5n });
      const out = classify(answered(batchOf([kinesisRecord([ur])]), [ok(SHARD_0, '111')]));
      expect(out).toEqual([
        {
          kind: 'result',
          result: {
            record: ur.record,
            success: true,
            shardId: SHARD_0,
            sequenceNumber: '111',
            attempts: [{ ...TIMES, success: true, shardId: SHARD_0, sequenceNumber: '111' }],
          },
        },
      ]);
    });

    it('shares the sequence number across every user record of an aggregated record', () => {
      const urs = [bufferedRecord({ key: 1n }), bufferedRecord({ key: 2n }), bufferedRecord({ key: 3n })];
      const out = results(classify(answered(batchOf([kinesisRecord(urs)]), [ok(SHARD_0, '777')])));
      expect(out.map((r) => [r.record, r.success, r.shardId, r.sequenceNumber])).toEqual(urs.map((u) => [u.record, true, SHARD_0, '777']));
    });

    it('succeeds without looking up or invalidating the map when there was no prediction', () => {
      const { shardMap, invalidations, lookups } = recordingShardMap();
      const ur = bufferedRecord({ key: HALF + 5n, predictedShard: undefined });
      const out = results(classify(answered(batchOf([kinesisRecord([ur])]), [ok(SHARD_1)]), { shardMap }));
      expect(out[0]).toMatchObject({ success: true, shardId: SHARD_1 });
      expect(invalidations).toEqual([]);
      expect(lookups).toEqual([]);
    });

    it('gives each user record of an aggregated record its own delayMs, from its arrival or its last attempt', () => {
      const earlier = { startedAt: 2, endedAt: 6, delayMs: 2, durationMs: 4, success: false, errorCode: 'InternalFailure', errorMessage: '' };
      const urs = [
        bufferedRecord({ key: 1n, arrival: 0 }),
        bufferedRecord({ key: 2n, arrival: 0 }),
        bufferedRecord({ key: 3n, arrival: 4 }),
        bufferedRecord({ key: 4n, arrival: 0, attempts: [earlier] }),
        bufferedRecord({ key: 5n, arrival: 4 }),
      ];
      const out = results(classify(answered(batchOf([kinesisRecord(urs)]), [ok(SHARD_0, '5')])));
      const success = (delayMs: number) => ({ startedAt: 10, endedAt: 30, delayMs, durationMs: 20, success: true, shardId: SHARD_0, sequenceNumber: '5' });
      expect(out.map((r) => r.attempts)).toEqual([[success(10)], [success(10)], [success(6)], [earlier, success(4)], [success(6)]]);
      expect(out.map((r) => r.record)).toEqual(urs.map((u) => u.record));
      // First attempts that are equal field for field share one read-only array; a retried record has its own.
      expect(out[1].attempts).toBe(out[0].attempts);
      // Shared, so frozen: a mutation through one result must not reach its sibling's.
      expect(Object.isFrozen(out[0].attempts)).toBe(true);
      expect(Object.isFrozen(out[0].attempts[0])).toBe(true);
      expect(() => (out[0].attempts as Attempt[]).push(success(1))).toThrow(TypeError);
      expect(out[1].attempts).toHaveLength(1);
      expect(out[2].attempts).not.toBe(out[0].attempts);
      expect(urs[3].attempts).toEqual([earlier]); // the carrier is not changed
    });
  });

  describe('retrierOf (the form the producer uses, without Classified)', () => {
    it('hands each verdict to the sink with its carrier (size and token), then completes', () => {
      const calls: unknown[] = [];
      const carriers: BufferedRecord[] = [];
      const urs = [bufferedRecord({ key: 1n, name: 'a' }), bufferedRecord({ key: 2n, name: 'bbbb' })];
      const failing = bufferedRecord({ key: 3n, name: 'c' });
      const retried = bufferedRecord({ key: 4n, name: 'd' });
      const outcomes = [
        answered(batchOf([kinesisRecord(urs), kinesisRecord([failing]), kinesisRecord([retried])]), [
          ok(SHARD_0, '1'),
          failed('ResourceNotFoundException'),
          failed('InternalFailure'),
        ]),
      ];
      const subscription = retrierOf({ random: () => 0.5, scheduler: fixedClock(30) })(from(outcomes), {
        result: (result, carrier) => {
          carriers.push(carrier);
          calls.push(['result', result.record.partitionKey, result.success, dataBytesOf(carrier)]);
        },
        retry: (record) => calls.push(['retry', record.record.partitionKey, record.deadline]),
        error: (err) => calls.push(['error', err]),
        complete: () => calls.push(['complete']),
      });
      expect(calls).toEqual([
        ['result', 'a', true, 'data of a'.length],
        ['result', 'bbbb', true, 'data of bbbb'.length],
        ['result', 'c', false, 'data of c'.length],
        ['retry', 'd', 30 + 0.5 * 50],
        ['complete'],
      ]);
      expect(carriers[0]).toBe(urs[0]);
      expect(carriers[1]).toBe(urs[1]);
      expect(carriers[2]).toBe(failing);
      expect(subscription.closed).toBe(true);
    });

    it("keeps a carrier's dataBytes and token on its retry, and hands them back with its final result", () => {
      const token = { put: 1 };
      const ur = { ...bufferedRecord({ key: 1n, name: 'a' }), dataBytes: 42, token };
      const retries: BufferedRecord[] = [];
      const results: BufferedRecord[] = [];
      const sink = { result: (_: unknown, carrier: BufferedRecord) => results.push(carrier), retry: (r: BufferedRecord) => retries.push(r), error: () => undefined, complete: () => undefined };
      retrierOf({ random: () => 0.5, scheduler: fixedClock(30) })(from([answered(batchOf([kinesisRecord([ur])]), [failed('InternalFailure')])]), sink);
      expect(retries).toHaveLength(1);
      expect(retries[0]).toMatchObject({ dataBytes: 42, token });
      retrierOf({ scheduler: fixedClock(40) })(from([answered(batchOf([kinesisRecord([retries[0]])]), [failed('ResourceNotFoundException')])]), sink);
      expect(results).toHaveLength(1);
      expect(results[0]).toMatchObject({ dataBytes: 42, token });
      expect(results[0].token).toBe(token);
    });

    it('errors the sink once when a sink call throws, and classifies nothing after', () => {
      const calls: unknown[] = [];
      const boom = new Error('sink bug');
      const outcomes = [answered(batchOfSingles(2), [ok(SHARD_0), ok(SHARD_0)]), answered(batchOfSingles(1, 's'), [ok(SHARD_0)])];
      retrierOf({ scheduler: fixedClock(30) })(from(outcomes), {
        result: (result) => {
          calls.push(['result', result.record.partitionKey]);
          throw boom;
        },
        retry: () => calls.push(['retry']),
        error: (err) => calls.push(['error', err]),
        complete: () => calls.push(['complete']),
      });
      expect(calls).toEqual([['result', 'r0'], ['error', boom]]);
    });
  });

  describe('per-record success on another shard than predicted', () => {
    it('succeeds and invalidates once when the actual shard range holds the single record (child shard, #576)', () => {
      const { shardMap, invalidations } = recordingShardMap();
      const ur = bufferedRecord({ key: HALF + 5n, predictedShard: SHARD_0 });
      const out = results(classify(answered(batchOf([kinesisRecord([ur])]), [ok(SHARD_1, '9')]), { shardMap }));
      expect(out[0]).toMatchObject({ success: true, shardId: SHARD_1, sequenceNumber: '9' });
      expect(invalidations).toEqual([{ seenAt: 10, predictedShardId: SHARD_0 }]);
    });

    it('retries as Wrong Shard and invalidates with the start time and the predicted shard when the range is unknown', () => {
      const { shardMap, invalidations } = recordingShardMap();
      const ur = bufferedRecord({ key: 5n, predictedShard: SHARD_0 });
      const out = classify(answered(batchOf([kinesisRecord([ur])]), [ok(SHARD_2)]), { shardMap });
      const [retry] = retries(out);
      expect(out).toHaveLength(1);
      expect(retry.attempts).toEqual([
        // failed, but written: where it landed, for whoever dedupes the copies
        { ...TIMES, success: false, errorCode: 'Wrong Shard', errorMessage: expect.stringContaining('is unknown'), shardId: SHARD_2, sequenceNumber: '49500' },
      ]);
      expect(retry.attempts[0].errorMessage).toContain('duplicate');
      expect(invalidations).toEqual([{ seenAt: 10, predictedShardId: SHARD_0 }]);
    });

    it('retries as Wrong Shard when the actual range does not hold the record hash key', () => {
      const { shardMap, invalidations } = recordingShardMap();
      const ur = bufferedRecord({ key: 5n, predictedShard: SHARD_2 });
      const out = classify(answered(batchOf([kinesisRecord([ur])]), [ok(SHARD_1)]), { shardMap });
      expect(retries(out)[0].attempts[0]).toMatchObject({ success: false, errorCode: 'Wrong Shard' });
      expect(invalidations).toEqual([{ seenAt: 10, predictedShardId: SHARD_2 }]);
    });

    it('retries as Wrong Shard when there is no shard map to ask', () => {
      const ur = bufferedRecord({ key: 5n, predictedShard: SHARD_0 });
      const out = classify(answered(batchOf([kinesisRecord([ur])]), [ok(SHARD_1)]));
      expect(retries(out)[0].attempts[0].errorCode).toBe('Wrong Shard');
    });

    it('succeeds every user record and invalidates ONCE when the child range holds all sub-records', () => {
      const { shardMap, invalidations } = recordingShardMap();
      const urs = [HALF + 1n, HALF + 2n, HALF + 3n].map((key) => bufferedRecord({ key, predictedShard: SHARD_2 }));
      const out = results(classify(answered(batchOf([kinesisRecord(urs)]), [ok(SHARD_1, '42')]), { shardMap }));
      expect(out.map((r) => [r.success, r.shardId, r.sequenceNumber])).toEqual([
        [true, SHARD_1, '42'],
        [true, SHARD_1, '42'],
        [true, SHARD_1, '42'],
      ]);
      expect(invalidations).toEqual([{ seenAt: 10, predictedShardId: SHARD_2 }]);
    });

    it('re-sends EVERY user record of a straddling aggregated record as Wrong Shard, invalidating once (kpl.md §13)', () => {
      const { shardMap, invalidations } = recordingShardMap();
      // Two sub-records lie in shard 1's range, one in shard 0's: the KCL would drop the blob whole.
      const urs = [HALF + 1n, 5n, HALF + 3n].map((key) => bufferedRecord({ key, predictedShard: SHARD_2 }));
      const out = classify(answered(batchOf([kinesisRecord(urs)]), [ok(SHARD_1)]), { shardMap });
      expect(out.map((c) => c.kind)).toEqual(['retry', 'retry', 'retry']);
      expect(retries(out).map((r) => r.record)).toEqual(urs.map((u) => u.record));
      expect(retries(out).map((r) => r.attempts[0].errorCode)).toEqual(['Wrong Shard', 'Wrong Shard', 'Wrong Shard']);
      expect(invalidations).toHaveLength(1);
    });

    it('invalidates once per Kinesis record, not per batch', () => {
      const { shardMap, invalidations } = recordingShardMap();
      const a = kinesisRecord([bufferedRecord({ key: 5n, predictedShard: SHARD_0 }), bufferedRecord({ key: 6n, predictedShard: SHARD_0 })]);
      const b = kinesisRecord([bufferedRecord({ key: HALF + 5n, predictedShard: SHARD_2 })]);
      classify(answered(batchOf([a, b]), [ok(SHARD_2), ok(SHARD_1)]), { shardMap });
      expect(invalidations).toEqual([
        { seenAt: 10, predictedShardId: SHARD_0 },
        { seenAt: 10, predictedShardId: SHARD_2 },
      ]);
    });
  });

  describe('per-record error', () => {
    it('retries a retryable code with the failed attempt appended and a backoff deadline', () => {
      const ur = bufferedRecord({ key: 5n });
      const out = classify(answered(batchOf([kinesisRecord([ur])]), [failed('InternalFailure', 'Internal service failure.')]));
      expect(out).toEqual([
        {
          kind: 'retry',
          record: {
            ...ur,
            // now 30 + 0.5 × min(2000, 100/2 × 2^0) = 55
            deadline: 55,
            attempts: [{ ...TIMES, success: false, errorCode: 'InternalFailure', errorMessage: 'Internal service failure.' }],
          },
        },
      ]);
      expect(ur.attempts).toEqual([]); // appended to a copy, never mutated
    });

    it('reads a missing ErrorCode as Unknown and a missing message as the empty string, and retries', () => {
      const ur = bufferedRecord();
      const out = classify(answered(batchOf([kinesisRecord([ur])]), [{}]));
      expect(retries(out)[0].attempts).toEqual([{ ...TIMES, success: false, errorCode: 'Unknown', errorMessage: '' }]);
    });

    it.each([...NON_RETRYABLE_ERROR_CODES].filter((c) => c !== 'Expired' && c !== 'Record Count Mismatch'))(
      'fails at once on %s',
      (code) => {
        const ur = bufferedRecord();
        const [result] = results(classify(answered(batchOf([kinesisRecord([ur])]), [failed(code, 'no')])));
        expect(result).toEqual({
          record: ur.record,
          success: false,
          errorCode: code,
          errorMessage: 'no',
          attempts: [{ ...TIMES, success: false, errorCode: code, errorMessage: 'no' }],
        });
      },
    );

    it.each(['ProvisionedThroughputExceededException', 'KMSThrottlingException', 'ExpiredTokenException', 'ServiceUnavailable', 'SomethingNew'])(
      'retries %s',
      (code) => {
        const out = classify(answered(batchOf([kinesisRecord([bufferedRecord()])]), [failed(code, 'later')]));
        expect(out.map((c) => c.kind)).toEqual(['retry']);
      },
    );

    it('fails a throttled record after its first attempt with failIfThrottled', () => {
      const ur = bufferedRecord();
      const code = 'ProvisionedThroughputExceededException';
      const [result] = results(classify(answered(batchOf([kinesisRecord([ur])]), [failed(code, 'Rate exceeded')]), { failIfThrottled: true }));
      expect(result).toMatchObject({ success: false, errorCode: code, errorMessage: 'Rate exceeded' });
      expect(result.attempts).toHaveLength(1);
    });

    it('still retries other codes with failIfThrottled', () => {
      const out = classify(answered(batchOf([kinesisRecord([bufferedRecord()])]), [failed('InternalFailure')]), { failIfThrottled: true });
      expect(out[0].kind).toBe('retry');
    });

    it('signals onThrottled once per throttled Kinesis record with its predicted shard', () => {
      const signals: ThrottleSignal[] = [];
      const aggregated = kinesisRecord([bufferedRecord({ key: 1n }), bufferedRecord({ key: 2n })], SHARD_0);
      const unpredicted = kinesisRecord([bufferedRecord({ key: 3n, predictedShard: undefined })]);
      const other = kinesisRecord([bufferedRecord({ key: HALF + 3n, predictedShard: SHARD_1 })]);
      const throttle = failed('ProvisionedThroughputExceededException', 'Rate exceeded');
      classify(answered(batchOf([aggregated, unpredicted, other]), [throttle, throttle, failed('InternalFailure')]), {
        onThrottled: (s) => signals.push(s),
      });
      expect(signals).toEqual([{ streamName: STREAM, shardId: SHARD_0 }]);
    });
  });

  describe('mixed answers', () => {
    it('classifies success and failure in one response, one Classified per user record, in batch order', () => {
      const [a, b, c, d] = [1n, 2n, 3n, 4n].map((key) => bufferedRecord({ key }));
      const out = classify(
        answered(batchOf([kinesisRecord([a, b]), kinesisRecord([c]), kinesisRecord([d])]), [
          ok(SHARD_0, '1'),
          failed('InternalFailure'),
          failed('AccessDeniedException', 'denied'),
        ]),
      );
      expect(out.map((x) => (x.kind === 'result' ? [x.result.record, x.result.success] : [x.record.record, 'retry']))).toEqual([
        [a.record, true],
        [b.record, true],
        [c.record, 'retry'],
        [d.record, false],
      ]);
    });

    it('fails every user record with Record Count Mismatch when the answer has another number of entries', () => {
      const urs = [bufferedRecord({ key: 1n }), bufferedRecord({ key: 2n }), bufferedRecord({ key: 3n })];
      const out = classify(answered(batchOf([kinesisRecord(urs.slice(0, 2)), kinesisRecord([urs[2]])]), [ok(SHARD_0)]));
      expect(out.map((c) => c.kind)).toEqual(['result', 'result', 'result']);
      for (const r of results(out)) {
        expect(r).toMatchObject({ success: false, errorCode: 'Record Count Mismatch', errorMessage: 'PutRecords answered 1 entries for a request of 2' });
        expect(r.attempts).toEqual([{ ...TIMES, success: false, errorCode: 'Record Count Mismatch', errorMessage: r.errorMessage }]);
      }
    });
  });

  describe('request-level failure (unanswered)', () => {
    it('retries every user record of a timed-out request', () => {
      const batch = batchOf([kinesisRecord([bufferedRecord({ key: 1n }), bufferedRecord({ key: 2n })]), kinesisRecord([bufferedRecord({ key: 3n })])]);
      const out = classify(unanswered(batch, 'RequestTimeout', 'PutRecords got no answer within 6000 ms'));
      expect(retries(out).map((r) => r.attempts[0])).toEqual(
        Array(3).fill({ ...TIMES, success: false, errorCode: 'RequestTimeout', errorMessage: 'PutRecords got no answer within 6000 ms' }),
      );
    });

    it.each(['ResourceNotFoundException', 'AccessDeniedException', 'KMSDisabledException'])('fails every user record at once on %s', (code) => {
      const out = classify(unanswered(batchOf([kinesisRecord([bufferedRecord({ key: 1n }), bufferedRecord({ key: 2n })])]), code, 'gone'));
      expect(results(out).map((r) => [r.success, r.errorCode, r.errorMessage, r.attempts.length])).toEqual([
        [false, code, 'gone', 1],
        [false, code, 'gone', 1],
      ]);
    });

    it('retries a request-level throttle and signals onThrottled once per Kinesis record', () => {
      const signals: ThrottleSignal[] = [];
      const batch = batchOf([
        kinesisRecord([bufferedRecord({ key: 1n }), bufferedRecord({ key: 2n })], SHARD_0),
        kinesisRecord([bufferedRecord({ key: HALF + 2n, predictedShard: SHARD_1 })]),
      ]);
      const out = classify(unanswered(batch, 'ProvisionedThroughputExceededException'), { onThrottled: (s) => signals.push(s) });
      expect(out.map((c) => c.kind)).toEqual(['retry', 'retry', 'retry']);
      expect(signals).toEqual([
        { streamName: STREAM, shardId: SHARD_0 },
        { streamName: STREAM, shardId: SHARD_1 },
      ]);
    });

    it('reads an empty request-level code as Unknown and retries', () => {
      const out = classify(unanswered(batchOf([kinesisRecord([bufferedRecord()])]), '', ''));
      expect(retries(out)[0].attempts).toEqual([{ ...TIMES, success: false, errorCode: 'Unknown', errorMessage: '' }]);
    });

    it('fails a request-level throttle at once with failIfThrottled', () => {
      const out = classify(unanswered(batchOf([kinesisRecord([bufferedRecord()])]), 'ProvisionedThroughputExceededException'), { failIfThrottled: true });
      expect(results(out)[0]).toMatchObject({ success: false, errorCode: 'ProvisionedThroughputExceededException' });
    });
  });

  describe('expiry', () => {
    it('fails a record that expired in the limiter with ONE Expired attempt', () => {
      const ur = bufferedRecord();
      const expired: SendOutcome = { kind: 'expired', batch: batchOf([kinesisRecord([ur])]), startedAt: 40, endedAt: 40 };
      expect(results(classify(expired, {}, 40))).toEqual([
        {
          record: ur.record,
          success: false,
          errorCode: 'Expired',
          errorMessage: 'Expiration reached while waiting in limiter',
          attempts: [
            { startedAt: 40, endedAt: 40, delayMs: 40, durationMs: 0, success: false, errorCode: 'Expired', errorMessage: 'Expiration reached while waiting in limiter' },
          ],
        },
      ]);
    });

    it('fails a retry found past its expiration with the failed attempt, then an Expired one', () => {
      // aiokpl.md §8.5: arrival 0, TTL 1 ms, clock 5.
      const ur = bufferedRecord({ expiration: 1 });
      const outcome = answered(batchOf([kinesisRecord([ur])]), [failed('InternalFailure', 'x')], 2, 4);
      const [result] = results(classify(outcome, {}, 5));
      expect(result).toEqual({
        record: ur.record,
        success: false,
        errorCode: 'Expired',
        errorMessage: 'Record has reached expiration',
        attempts: [
          { startedAt: 2, endedAt: 4, delayMs: 2, durationMs: 2, success: false, errorCode: 'InternalFailure', errorMessage: 'x' },
          { startedAt: 5, endedAt: 5, delayMs: 1, durationMs: 0, success: false, errorCode: 'Expired', errorMessage: 'Record has reached expiration' },
        ],
      });
    });

    it('retries a record exactly at its expiration (expired means now > expiration)', () => {
      const out = classify(answered(batchOf([kinesisRecord([bufferedRecord({ expiration: 30 })])]), [failed('InternalFailure')]));
      expect(retries(out)[0].deadline).toBe(30);
    });

    it('measures delayMs from the previous attempt end on a later attempt', () => {
      const first = { startedAt: 10, endedAt: 30, delayMs: 10, durationMs: 20, success: false, errorCode: 'InternalFailure', errorMessage: '' };
      const ur = bufferedRecord({ attempts: [first] });
      const [result] = results(classify(answered(batchOf([kinesisRecord([ur])]), [ok(SHARD_0, '5')], 80, 95), {}, 95));
      expect(result.attempts).toEqual([first, { startedAt: 80, endedAt: 95, delayMs: 50, durationMs: 15, success: true, shardId: SHARD_0, sequenceNumber: '5' }]);
    });
  });

  describe('backoff', () => {
    /** The deadline of a record retried at now = 1000 after `failures` failed attempts, with random() = r. */
    function deadlineAfter(failures: number, r: number, options: RetryClassifyOptions = {}, expiration = 1e6): number {
      const earlier = Array.from({ length: failures - 1 }, () => ({ startedAt: 0, endedAt: 0, delayMs: 0, durationMs: 0, success: false }));
      const ur = bufferedRecord({ attempts: earlier, expiration });
      const out = classify(answered(batchOf([kinesisRecord([ur])]), [failed('InternalFailure')], 900, 1000), { ...options, random: () => r }, 1000);
      return retries(out)[0].deadline;
    }

    it('doubles the ceiling from recordMaxBufferedTimeMs/2 per failed attempt up to maxBackoffMs', () => {
      const almostOne = 1 - Number.EPSILON;
      const waits = [1, 2, 3, 4, 5, 6, 7, 8, 40, 2000].map((n) => Math.round(deadlineAfter(n, almostOne) - 1000));
      expect(waits).toEqual([50, 100, 200, 400, 800, 1600, 2000, 2000, 2000, 2000]);
      expect(DEFAULT_MAX_BACKOFF_MS).toBe(2000);
    });

    it('waits nothing with random() = 0 and half the ceiling with random() = 0.5', () => {
      expect(deadlineAfter(3, 0)).toBe(1000);
      expect(deadlineAfter(3, 0.5)).toBe(1100);
    });

    it('scales with recordMaxBufferedTimeMs and obeys maxBackoffMs', () => {
      expect(deadlineAfter(1, 0.5, { recordMaxBufferedTimeMs: 1000 })).toBe(1250);
      expect(deadlineAfter(5, 0.5, { recordMaxBufferedTimeMs: 1000, maxBackoffMs: 300 })).toBe(1150);
      expect(deadlineAfter(60, 0.5, { recordMaxBufferedTimeMs: 0 })).toBe(1000);
      expect(deadlineAfter(2, 0.5, { maxBackoffMs: 0 })).toBe(1000);
    });

    it('clamps the new deadline to the expiration', () => {
      expect(deadlineAfter(7, 0.99, {}, 1200)).toBe(1200);
    });

    it('clamps a random() outside [0, 1]', () => {
      expect(deadlineAfter(1, 7)).toBe(1050);
      expect(deadlineAfter(1, -3)).toBe(1000);
    });
  });

  describe('the stream', () => {
    it('emits exactly one Classified per user record across outcomes', () => {
      const outcomes = [
        answered(batchOf([kinesisRecord([bufferedRecord({ key: 1n }), bufferedRecord({ key: 2n })])]), [ok(SHARD_0)]),
        unanswered(batchOf([kinesisRecord([bufferedRecord({ key: 3n })])]), 'InternalFailure'),
        { kind: 'expired', batch: batchOf([kinesisRecord([bufferedRecord({ key: 4n })])]), startedAt: 30, endedAt: 30 } as SendOutcome,
      ];
      const out = classify(outcomes);
      expect(out.map((c) => (c.kind === 'result' ? c.result.record.partitionKey : c.record.record.partitionKey))).toEqual(['pk-1', 'pk-2', 'pk-3', 'pk-4']);
    });

    it('errors the result when onThrottled throws', () => {
      const throwing = () => {
        throw new Error('callback bug');
      };
      expect(() => classify(unanswered(batchOf([kinesisRecord([bufferedRecord()])]), 'ProvisionedThroughputExceededException'), { onThrottled: throwing })).toThrow(
        'callback bug',
      );
    });

    it('reads asyncScheduler time by default (epoch ms, so a record expiring at 30000 has expired)', () => {
      const out = runSync([answered(batchOf([kinesisRecord([bufferedRecord()])]), [failed('InternalFailure')])], retryClassify());
      expect(results(out)[0].errorCode).toBe('Expired');
    });
  });

  describe('options', () => {
    it.each([
      [{ maxBackoffMs: -1 }, 'maxBackoffMs'],
      [{ maxBackoffMs: Number.NaN }, 'maxBackoffMs'],
      [{ recordMaxBufferedTimeMs: -5 }, 'recordMaxBufferedTimeMs'],
      [{ failIfThrottled: 'yes' as unknown as boolean }, 'failIfThrottled'],
      [{ random: 0.5 as unknown as () => number }, 'random'],
      [{ onThrottled: 'log' as unknown as () => void }, 'onThrottled'],
      [{ shardMap: { hashRange: () => undefined } as unknown as RetryClassifyOptions['shardMap'] }, 'shardMap'],
    ])('refuses %p with a ValidationError naming %s', (options, field) => {
      expect(() => retryClassify(options)).toThrow(ValidationError);
      expect(() => retryClassify(options)).toThrow(expect.objectContaining({ field }));
    });

    it('keeps the scheduler inside the options object', () => {
      // @ts-expect-error scheduler belongs in the options
      expect(() => retryClassify({}, fixedClock(0))).not.toThrow();
    });
  });
});
