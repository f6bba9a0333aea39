import { TestScheduler } from 'rxjs/testing';
import { retryClassify } from '../../lib/operators/retry-classify';
import type { BufferedRecord, Classified, RecordResult, SendOutcome } from '../../lib/records';
import { NEVER, Observable, tap } from 'rxjs';
import type { ShardMapForRetrier } from '../../lib/operators/retry-classify';
import { answered, batchOf, bufferedRecord, failed, HALF, kinesisRecord, ok, SHARD_0, SHARD_2 } from '../../spec/helpers/retrier-builders';

const r1 = bufferedRecord({ key: 1n, name: 'r1' });
const r2 = bufferedRecord({ key: 2n, name: 'r2' });
const r3 = bufferedRecord({ key: 3n, name: 'r3' });

function result(value: RecordResult): Classified {
  return { kind: 'result', result: value };
}
function retry(record: BufferedRecord): Classified {
  return { kind: 'retry', record };
}

describe('retryClassify', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  it('classifies each user record when its outcome arrives, with deadlines from scheduler time', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const a = answered(batchOf([kinesisRecord([r1]), kinesisRecord([r2])]), [ok(SHARD_0, '7'), failed('InternalFailure', 'x')], 0, 1);
      const b = answered(batchOf([kinesisRecord([r3])]), [failed('ResourceNotFoundException', 'gone')], 2, 5);
      const source = hot<SendOutcome>('-a---b-|', { a, b });
      const subs = '                    ^------!';
      const expected = '                -(xy)z-|';
      //                                 y: deadline = 1 + 0.5 × min(2000, 100/2 × 2^0) = 26

      const classified = source.pipe(retryClassify({ random: () => 0.5, scheduler }));

      const failedR2 = { startedAt: 0, endedAt: 1, delayMs: 0, durationMs: 1, success: false, errorCode: 'InternalFailure', errorMessage: 'x' };
      const failedR3 = { startedAt: 2, endedAt: 5, delayMs: 2, durationMs: 3, success: false, errorCode: 'ResourceNotFoundException', errorMessage: 'gone' };
      expectObservable(classified).toBe(expected, {
        x: result({
          record: r1.record,
          success: true,
          shardId: SHARD_0,
          sequenceNumber: '7',
          attempts: [{ startedAt: 0, endedAt: 1, delayMs: 0, durationMs: 1, success: true, shardId: SHARD_0, sequenceNumber: '7' }],
        }),
        y: retry({ ...r2, deadline: 26, attempts: [failedR2] }),
        z: result({ record: r3.record, success: false, errorCode: 'ResourceNotFoundException', errorMessage: 'gone', attempts: [failedR3] }),
      });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('grows the backoff with the attempts a record has already made', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const earlier = { startedAt: 0, endedAt: 10, delayMs: 0, durationMs: 10, success: false, errorCode: 'InternalFailure', errorMessage: '' };
      const twice = bufferedRecord({ attempts: [earlier, { ...earlier, startedAt: 20, endedAt: 30, delayMs: 10 }] });
      const a = answered(batchOf([kinesisRecord([twice])]), [failed('InternalFailure', '')], 35, 40);
      const classified = hot<SendOutcome>('40ms a', { a }).pipe(retryClassify({ random: () => 1, scheduler }));
      // third failure at 40: ceiling 50 × 2^2 = 200, random() 1 → deadline 240
      expectObservable(classified).toBe('40ms y', {
        y: retry({ ...twice, deadline: 240, attempts: [...twice.attempts, { startedAt: 35, endedAt: 40, delayMs: 5, durationMs: 5, success: false, errorCode: 'InternalFailure', errorMessage: '' }] }),
      });
    });
  });

  it('expires a retry whose expiration passed before its outcome is classified', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const old = bufferedRecord({ expiration: 20 });
      const a = answered(batchOf([kinesisRecord([old])]), [failed('InternalFailure', 'x')], 15, 25);
      const classified = hot<SendOutcome>('25ms a', { a }).pipe(retryClassify({ scheduler }));
      expectObservable(classified).toBe('25ms x', {
        x: result({
          record: old.record,
          success: false,
          errorCode: 'Expired',
          errorMessage: 'Record has reached expiration',
          attempts: [
            { startedAt: 15, endedAt: 25, delayMs: 15, durationMs: 10, success: false, errorCode: 'InternalFailure', errorMessage: 'x' },
            { startedAt: 25, endedAt: 25, delayMs: 0, durationMs: 0, success: false, errorCode: 'Expired', errorMessage: 'Record has reached expiration' },
          ],
        }),
      });
    });
  });

  it('passes completion, emptiness and a source error through', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold<SendOutcome>('|').pipe(retryClassify({ scheduler }))).toBe('|');
      expectObservable(cold<SendOutcome>('-').pipe(retryClassify({ scheduler }))).toBe('-');
      expectObservable(cold<SendOutcome>('--#', undefined, new Error('upstream')).pipe(retryClassify({ scheduler }))).toBe('--#', undefined, new Error('upstream'));
    });
  });

  it('unsubscribes from the source when the result is unsubscribed', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const a = answered(batchOf([kinesisRecord([r1])]), [ok(SHARD_0, '1')], 0, 1);
      const source = hot<SendOutcome>('-a--a-|', { a });
      const classified = source.pipe(retryClassify({ scheduler }));
      expectObservable(classified, '^--!').toBe('-x', {
        x: result({ record: r1.record, success: true, shardId: SHARD_0, sequenceNumber: '1', attempts: [{ startedAt: 0, endedAt: 1, delayMs: 0, durationMs: 1, success: true, shardId: SHARD_0, sequenceNumber: '1' }] }),
      });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });
  describe('a Kinesis record that landed on a shard the map does not know (departure 7)', () => {
    // r1 and r2 aggregated, predicted for shard 0, answered from shard 2 (a new child) at frame 1.
    const both = kinesisRecord([r1, r2]);
    const landed = answered(batchOf([both]), [ok(SHARD_2, '9')], 0, 1);
    const success = (r: BufferedRecord): Classified =>
      result({ record: r.record, success: true, shardId: SHARD_2, sequenceNumber: '9', attempts: [{ startedAt: 0, endedAt: 1, delayMs: 0, durationMs: 1, success: true, shardId: SHARD_2, sequenceNumber: '9' }] });
    const wrongShard = (r: BufferedRecord, deadline: number): Classified => {
      const attempt = {
        startedAt: 0,
        endedAt: 1,
        delayMs: 0,
        durationMs: 1,
        success: false,
        errorCode: 'Wrong Shard',
        errorMessage: `Record did not end up in expected shard: it landed on ${SHARD_2}, whose hash range is unknown (predicted ${SHARD_0}); it was written there, so the retry writes a duplicate`,
        // where the copy was written
        shardId: SHARD_2,
        sequenceNumber: '9',
      };
      return retry({ ...r, deadline, attempts: [attempt] });
    };

    /** A map that learns shard 2 = [0, HALF] when `refreshed` emits; records its calls. */
    function learningMap(refreshed: Observable<unknown>) {
      let known = false;
      const calls: string[] = [];
      const shardMap: ShardMapForRetrier = {
        hashRange: (id) => (known && id === SHARD_2 ? { startingHashKey: 0n, endingHashKey: HALF } : undefined),
        invalidate: (seenAt, predicted) => void calls.push(`invalidate ${seenAt} ${predicted}`),
        refreshedSince: (since) => {
          calls.push(`refreshedSince ${since}`);
          return refreshed.pipe(tap(() => (known = true)));
        },
      };
      return { shardMap, calls };
    }

    it('holds it until the map has reloaded, then succeeds every user record the range holds (no blind re-send)', () => {
      let calls: string[] = [];
      scheduler.run(({ cold, hot, expectObservable }) => {
        const map = learningMap(cold('---x|'));
        calls = map.calls;
        const classified = hot<SendOutcome>('-a-|', { a: landed }).pipe(retryClassify({ scheduler, shardMap: map.shardMap }));
        expectObservable(classified).toBe('----(xy|)', { x: success(r1), y: success(r2) }); // completes after the held record
      });
      expect(calls).toEqual([`invalidate 0 ${SHARD_0}`, 'refreshedSince 1']);
    });

    it('judges it at once when the map answers synchronously, releasing the refresh and the timer', () => {
      let finalized = 0;
      scheduler.run(({ hot, expectObservable }) => {
        const refreshed = new Observable<unknown>((s) => {
          s.next('loaded'); // answers inside subscribe, and never completes
          return () => void finalized++;
        });
        const map = learningMap(refreshed);
        const classified = hot<SendOutcome>('-a-----|', { a: landed }).pipe(retryClassify({ scheduler, shardMap: map.shardMap }));
        // Completes with the source at frame 7: nothing held, no timer left waiting 5000 ms.
        expectObservable(classified).toBe('-(xy)--|', { x: success(r1), y: success(r2) });
      });
      expect(finalized).toBe(1);
    });

    it('re-sends it as Wrong Shard after unknownShardWaitMs when the map does not catch up', () => {
      scheduler.run(({ hot, expectObservable }) => {
        const map = learningMap(NEVER);
        const classified = hot<SendOutcome>('-a', { a: landed }).pipe(retryClassify({ scheduler, random: () => 0, shardMap: map.shardMap, unknownShardWaitMs: 50 }));
        expectObservable(classified).toBe('51ms (xy)', { x: wrongShard(r1, 51), y: wrongShard(r2, 51) });
      });
    });

    it('re-sends it as Wrong Shard at once when the map can no longer load, or is still blind after loading', () => {
      scheduler.run(({ cold, hot, expectObservable }) => {
        const closed = learningMap(cold('--|'));
        const blind: ShardMapForRetrier = { hashRange: () => undefined, invalidate: () => undefined, refreshedSince: () => cold('-x|') };
        const opts = { scheduler, random: () => 0 };
        expectObservable(hot<SendOutcome>('-a', { a: landed }).pipe(retryClassify({ ...opts, shardMap: closed.shardMap }))).toBe('---(xy)', {
          x: wrongShard(r1, 3),
          y: wrongShard(r2, 3),
        });
        expectObservable(hot<SendOutcome>('-a', { a: landed }).pipe(retryClassify({ ...opts, shardMap: blind }))).toBe('--(xy)', {
          x: wrongShard(r1, 2),
          y: wrongShard(r2, 2),
        });
      });
    });

    it('keeps the old behaviour with unknownShardWaitMs 0 or a map without refreshedSince', () => {
      scheduler.run(({ cold, hot, expectObservable }) => {
        const map = learningMap(cold('---x|'));
        const plain: ShardMapForRetrier = { hashRange: () => undefined, invalidate: () => undefined };
        const opts = { scheduler, random: () => 0 };
        expectObservable(hot<SendOutcome>('-a', { a: landed }).pipe(retryClassify({ ...opts, shardMap: map.shardMap, unknownShardWaitMs: 0 }))).toBe('-(xy)', {
          x: wrongShard(r1, 1),
          y: wrongShard(r2, 1),
        });
        expectObservable(hot<SendOutcome>('-a', { a: landed }).pipe(retryClassify({ ...opts, shardMap: plain }))).toBe('-(xy)', { x: wrongShard(r1, 1), y: wrongShard(r2, 1) });
      });
    });

    it('cancels the wait (map subscription and timer) on unsubscribe', () => {
      scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const refreshed = cold('----x|');
        const map = learningMap(refreshed);
        const classified = hot<SendOutcome>('-a', { a: landed }).pipe(retryClassify({ scheduler, shardMap: map.shardMap, unknownShardWaitMs: 10 }));
        expectObservable(classified, '^--!').toBe('-');
        expectSubscriptions(refreshed.subscriptions).toBe('-^-!');
      });
    });

    it('rejects an unknownShardWaitMs out of range', () => {
      expect(() => retryClassify({ unknownShardWaitMs: -1 })).toThrow('unknownShardWaitMs');
      expect(() => retryClassify({ unknownShardWaitMs: Number.NaN })).toThrow('unknownShardWaitMs');
    });
  });
});
