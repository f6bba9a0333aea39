import { asyncScheduler, from, NEVER, Subject, throwError } from 'rxjs';
import { ValidationError } from '../../lib/config';
import {
  createShardLimiter,
  drainShard,
  enqueue,
  factorAt,
  recover,
  throttle,
  THROTTLE_DEBOUNCE_MS,
  THROTTLE_FLOOR,
} from '../../lib/operators/internal/limiter-shard';
import { rateLimitPerShard, type ThrottleSignal } from '../../lib/operators/rate-limit-per-shard';
import type { KinesisRecord, SendOutcome } from '../../lib/records';
import { limiterRecord, MAX_RECORD_BYTES, SHARD_0 } from '../helpers/limiter-records';

function collect(values: (KinesisRecord | SendOutcome)[]) {
  return { next: (v: KinesisRecord | SendOutcome) => values.push(v), error: (e: unknown) => values.push({ error: e } as never) };
}

describe('rateLimitPerShard options', () => {
  it.each([0, 0.5, 10001, Number.NaN, '150'])('refuses rateLimit %p with a ValidationError naming the field', (rateLimit) => {
    let error: unknown;
    try {
      rateLimitPerShard({ rateLimit: rateLimit as number });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('rateLimit');
  });

  it.each([0, -25, Infinity, Number.NaN])('refuses drainIntervalMs %p', (drainIntervalMs) => {
    expect(() => rateLimitPerShard({ drainIntervalMs })).toThrow(ValidationError);
    expect(() => rateLimitPerShard({ drainIntervalMs })).toThrow(/drainIntervalMs/);
  });

  it('accepts the range ends 1 and 10000 and no options at all', () => {
    expect(() => rateLimitPerShard({ rateLimit: 1 })).not.toThrow();
    expect(() => rateLimitPerShard({ rateLimit: 10000 })).not.toThrow();
    expect(() => rateLimitPerShard()).not.toThrow();
  });
});

describe('rateLimitPerShard', () => {
  afterEach(() => jest.useRealTimers());

  it('emits an admitted record as the same object', () => {
    const record = limiterRecord({ expiration: Infinity }); // asyncScheduler: real epoch ms
    const out: (KinesisRecord | SendOutcome)[] = [];
    from([record]).pipe(rateLimitPerShard()).subscribe(collect(out));
    expect(out[0]).toBe(record);
  });

  it('builds the expired outcome with the batch size of the partition key in UTF-8 plus the data', () => {
    jest.useFakeTimers({ now: 1000 });
    const record = limiterRecord({ id: 'clé', size: 10, expiration: 999 });
    const out: (KinesisRecord | SendOutcome)[] = [];
    from([record]).pipe(rateLimitPerShard()).subscribe(collect(out));
    expect(out).toEqual([
      { kind: 'expired', batch: { streamName: 'stream', records: [record], size: 4 + 10 }, startedAt: 1000, endedAt: 1000 },
    ]);
    expect((out[0] as SendOutcome & { kind: 'expired' }).batch.records[0]).toBe(record);
  });

  it('runs the drain timer only while a record waits, and leaves none after unsubscribe', () => {
    jest.useFakeTimers({ now: 0 }); // asyncScheduler runs on setInterval, which jest counts, and reads the faked Date.now()
    const source = new Subject<KinesisRecord>();
    const out: (KinesisRecord | SendOutcome)[] = [];
    const subscription = source.pipe(rateLimitPerShard({ rateLimit: 10000 })).subscribe(collect(out));

    source.next(limiterRecord({ id: 'x', size: MAX_RECORD_BYTES }));
    expect(out).toHaveLength(1);
    expect(jest.getTimerCount()).toBe(0); // admitted at once: nothing waits, no timer

    source.next(limiterRecord({ id: 'y', size: MAX_RECORD_BYTES }));
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(99);
    expect(out).toHaveLength(1);
    jest.advanceTimersByTime(1); // 10 MiB back at 100 MiB/s after 100 ms
    expect(out).toHaveLength(2);
    expect(jest.getTimerCount()).toBe(0); // idle again: the timer stopped

    source.next(limiterRecord({ id: 'z', size: MAX_RECORD_BYTES }));
    expect(jest.getTimerCount()).toBe(1);
    subscription.unsubscribe();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('completes only when the queue is empty, and then leaves no timer', () => {
    jest.useFakeTimers({ now: 0 });
    const source = new Subject<KinesisRecord>();
    let completedAt: number | undefined;
    source.pipe(rateLimitPerShard({ rateLimit: 10000 })).subscribe({ complete: () => (completedAt = Date.now()) });
    const start = Date.now();
    source.next(limiterRecord({ id: 'x', size: MAX_RECORD_BYTES }));
    source.next(limiterRecord({ id: 'y', size: MAX_RECORD_BYTES }));
    source.complete();
    expect(completedAt).toBeUndefined();
    jest.advanceTimersByTime(100);
    expect(completedAt).toBe(start + 100);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('drops the queue and cancels the timer on a source error', () => {
    jest.useFakeTimers({ now: 0 });
    const source = new Subject<KinesisRecord>();
    const out: (KinesisRecord | SendOutcome)[] = [];
    source.pipe(rateLimitPerShard({ rateLimit: 10000 })).subscribe(collect(out));
    source.next(limiterRecord({ id: 'x', size: MAX_RECORD_BYTES }));
    source.next(limiterRecord({ id: 'y', size: MAX_RECORD_BYTES }));
    source.error(new Error('boom'));
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(1000);
    expect(out.map((v) => ('error' in v ? 'error' : (v as KinesisRecord).partitionKey))).toEqual(['x', 'error']);
  });

  it('passes an error of throttled$ on', () => {
    const out: (KinesisRecord | SendOutcome)[] = [];
    NEVER.pipe(rateLimitPerShard({ throttled$: throwError(() => new Error('feedback broke')) })).subscribe(collect(out));
    expect(out).toEqual([{ error: new Error('feedback broke') }]);
  });

  it('errors the stream with a ValidationError on a malformed throttle signal', () => {
    const throttled$ = new Subject<ThrottleSignal>();
    const out: (KinesisRecord | SendOutcome)[] = [];
    NEVER.pipe(rateLimitPerShard({ throttled$ })).subscribe(collect(out));
    throttled$.next(42 as unknown as string);
    expect((out[0] as unknown as { error: unknown }).error).toBeInstanceOf(ValidationError);
  });

  it('errors the stream instead of losing the throw when a record is malformed (guarded handler)', () => {
    const out: (KinesisRecord | SendOutcome)[] = [];
    from([{ ...limiterRecord({ expiration: Infinity }), size: -1 }]).pipe(rateLimitPerShard()).subscribe(collect(out));
    expect((out[0] as unknown as { error: unknown }).error).toBeInstanceOf(RangeError);
  });

  it('stays consistent when downstream pushes a record back in while it is being emitted (reentrancy)', () => {
    jest.useFakeTimers({ now: 0 });
    const source = new Subject<KinesisRecord>();
    const order: string[] = [];
    source.pipe(rateLimitPerShard({ rateLimit: 10000 })).subscribe((v) => {
      const id = (v as KinesisRecord).partitionKey;
      order.push(id);
      if (id === 'y') source.next(limiterRecord({ id: 'w', size: MAX_RECORD_BYTES }));
    });
    source.next(limiterRecord({ id: 'x', size: MAX_RECORD_BYTES }));
    source.next(limiterRecord({ id: 'y', size: MAX_RECORD_BYTES }));
    jest.advanceTimersByTime(100); // y admitted by the drain; w enters during that emission and waits its turn
    expect(order).toEqual(['x', 'y']);
    jest.advanceTimersByTime(100);
    expect(order).toEqual(['x', 'y', 'w']);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('admits thousands of records at once on 64 shards with ample tokens, without a timer', () => {
    jest.useFakeTimers({ now: 0 });
    const records: KinesisRecord[] = [];
    for (let i = 0; i < 64 * 500; i++) records.push(limiterRecord({ id: `r${i}`, shard: `shardId-${String(i % 64).padStart(12, '0')}` }));
    const out: (KinesisRecord | SendOutcome)[] = [];
    from(records).pipe(rateLimitPerShard({ scheduler: asyncScheduler })).subscribe(collect(out));
    expect(out).toHaveLength(records.length);
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('the shard limiter (limiter-shard.ts)', () => {
  const clock = { t: 0, now: () => clock.t };
  beforeEach(() => (clock.t = 0));

  it('sets the KPL buckets: 1000 records and 10 MiB capacity, refill 1000 and 1 MiB × rateLimit/100 per second', () => {
    const limiter = createShardLimiter('stream', SHARD_0, 150, clock);
    expect(limiter.bucket.available(0)).toBe(1000);
    expect(limiter.bucket.available(1)).toBe(10485760);
    expect(limiter.bucket.rate(0)).toBe(1500);
    expect(limiter.bucket.rate(1)).toBe(1572864);
  });

  it('keeps equal deadlines in arrival order and earlier deadlines first', () => {
    const limiter = createShardLimiter('stream', SHARD_0, 100, clock);
    for (const [id, deadline] of [['a', 5], ['b', 3], ['c', 5], ['d', 1], ['e', 3]] as const) {
      enqueue(limiter, limiterRecord({ id, deadline }));
    }
    expect(limiter.queue.map((r) => r.partitionKey)).toEqual(['d', 'b', 'e', 'a', 'c']);
  });

  it('lets expired records out in expiration order, then admits in deadline order', () => {
    const limiter = createShardLimiter('stream', SHARD_0, 100, clock);
    limiter.bucket.tryTake([1000, 0]); // no record tokens: nothing can be admitted yet
    enqueue(limiter, limiterRecord({ id: 'a', deadline: 1, expiration: 50 }));
    enqueue(limiter, limiterRecord({ id: 'b', deadline: 2, expiration: 20 }));
    enqueue(limiter, limiterRecord({ id: 'c', deadline: 3, expiration: 5000 }));
    enqueue(limiter, limiterRecord({ id: 'd', deadline: 0, expiration: 20 }));
    clock.t = 60; // 60 ms at 1000/s: 60 record tokens
    const drained = drainShard(limiter, clock.t);
    expect(drained?.expired.map((r) => r.partitionKey)).toEqual(['d', 'b', 'a']); // 20 (deadline 0), 20 (deadline 2), 50
    expect(drained?.admitted.map((r) => r.partitionKey)).toEqual(['c']);
    expect(limiter.queue).toEqual([]);
  });

  it('returns null from a drain that lets nothing out', () => {
    const limiter = createShardLimiter('stream', SHARD_0, 100, clock);
    limiter.bucket.tryTake([1000, 0]);
    enqueue(limiter, limiterRecord());
    expect(drainShard(limiter, 0)).toBeNull();
  });

  it('halves the rate once per burst of signals (debounce) and never below 10% of nominal', () => {
    const limiter = createShardLimiter('stream', SHARD_0, 100, clock);
    expect(throttle(limiter, 0)).toBe(true);
    for (let i = 0; i < 500; i++) expect(throttle(limiter, 0)).toBe(false); // one response, 500 throttled records
    expect(throttle(limiter, THROTTLE_DEBOUNCE_MS - 1)).toBe(false);
    expect(limiter.factor).toBe(0.5);
    expect(limiter.bucket.rate(0)).toBe(500);
    // each later decrease starts from the recovered factor: 0.5 + 0.1 × 0.1 s = 0.51 → 0.255
    clock.t = THROTTLE_DEBOUNCE_MS;
    expect(throttle(limiter, clock.t)).toBe(true);
    expect(limiter.factor).toBeCloseTo(0.255, 10);
    for (let t = 200; t <= 1000; t += 100) throttle(limiter, t);
    expect(limiter.factor).toBe(THROTTLE_FLOOR);
    expect(limiter.bucket.rate(0)).toBeCloseTo(100, 10);
    expect(limiter.bucket.rate(1)).toBeCloseTo(104857.6, 6);
  });

  it('recovers by 10% of nominal per second since the last decrease, up to nominal', () => {
    const limiter = createShardLimiter('stream', SHARD_0, 150, clock);
    throttle(limiter, 1000); // 1500/s → 750/s
    expect(factorAt(limiter, 1000)).toBe(0.5);
    expect(factorAt(limiter, 3000)).toBeCloseTo(0.7, 10);
    expect(factorAt(limiter, 6000)).toBe(1);
    recover(limiter, 3000);
    expect(limiter.bucket.rate(0)).toBeCloseTo(1050, 6);
    recover(limiter, 60000);
    expect(limiter.factor).toBe(1);
    expect(limiter.bucket.rate(0)).toBe(1500);
    expect(limiter.bucket.rate(1)).toBe(1572864);
  });
});
