import fc from 'fast-check';
import { createTokenBucket, type TokenStream } from '../../../lib/operators/internal/token-bucket';

/** A hand-moved clock, in ms. */
function clock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}

function bucketOf(streams: TokenStream[], start = 0) {
  const scheduler = clock(start);
  return { scheduler, bucket: createTokenBucket({ streams, scheduler }) };
}

describe('createTokenBucket', () => {
  it('starts full', () => {
    const { bucket } = bucketOf([
      { capacity: 1000, ratePerSecond: 1500 },
      { capacity: 10485760, ratePerSecond: 1572864 },
    ]);
    expect(bucket.available(0)).toBe(1000);
    expect(bucket.available(1)).toBe(10485760);
  });

  it('refills by elapsed time and caps at capacity (aiokpl test_token_bucket: 10/s, +5 s → 50, +100 s → 100)', () => {
    const { scheduler, bucket } = bucketOf([{ capacity: 100, ratePerSecond: 10 }]);
    expect(bucket.tryTake([100])).toBe(true);
    expect(bucket.available(0)).toBe(0);
    scheduler.t += 5000;
    expect(bucket.available(0)).toBe(50);
    scheduler.t += 100000;
    expect(bucket.available(0)).toBe(100);
  });

  it('changes nothing when no time has elapsed', () => {
    const { scheduler, bucket } = bucketOf([{ capacity: 10, ratePerSecond: 1 }]);
    bucket.tryTake([10]);
    expect(bucket.available(0)).toBe(0);
    expect(bucket.available(0)).toBe(0); // +0 ms
    scheduler.t += 3000;
    expect(bucket.available(0)).toBe(3);
  });

  it('changes nothing when the clock goes backwards, and counts from the latest time seen', () => {
    const { scheduler, bucket } = bucketOf([{ capacity: 10, ratePerSecond: 1 }], 5000);
    bucket.tryTake([10]);
    scheduler.t = 1000;
    expect(bucket.available(0)).toBe(0);
    scheduler.t = 7000;
    expect(bucket.available(0)).toBe(2);
  });

  it('takes all streams or none: a failed take changes nothing', () => {
    const { bucket } = bucketOf([
      { capacity: 5, ratePerSecond: 1 },
      { capacity: 100, ratePerSecond: 1 },
    ]);
    expect(bucket.tryTake([1, 100])).toBe(true);
    expect(bucket.tryTake([1, 1])).toBe(false); // records fit, bytes do not
    expect(bucket.available(0)).toBe(4);
    expect(bucket.available(1)).toBe(0);
  });

  it('lets a zero amount through an empty stream', () => {
    const { bucket } = bucketOf([{ capacity: 1, ratePerSecond: 0 }]);
    bucket.tryTake([1]);
    expect(bucket.tryTake([0])).toBe(true);
    expect(bucket.tryTake([1])).toBe(false);
  });

  it('admits a take due at exactly t despite float rounding (0.1 × 10 steps)', () => {
    const { scheduler, bucket } = bucketOf([{ capacity: 1, ratePerSecond: 1 }]);
    bucket.tryTake([1]);
    for (let i = 0; i < 9; i++) {
      scheduler.t += 100;
      expect(bucket.tryTake([1])).toBe(false);
    }
    scheduler.t += 100; // 0.1 added ten times is 0.9999999999999999
    expect(bucket.tryTake([1])).toBe(true);
    expect(bucket.available(0)).toBe(0);
  });

  it('keeps tokens grown at the old rate when the rate changes', () => {
    const { scheduler, bucket } = bucketOf([{ capacity: 1000, ratePerSecond: 100 }]);
    bucket.tryTake([1000]);
    scheduler.t += 1000; // +100 at 100/s
    bucket.setRate(0, 10);
    expect(bucket.rate(0)).toBe(10);
    scheduler.t += 1000; // +10 at 10/s
    expect(bucket.available(0)).toBe(110);
  });

  it('says how long until amounts could be taken', () => {
    const { scheduler, bucket } = bucketOf([
      { capacity: 10, ratePerSecond: 2 },
      { capacity: 100, ratePerSecond: 50 },
    ]);
    expect(bucket.msUntil([10, 100])).toBe(0);
    bucket.tryTake([10, 100]);
    expect(bucket.msUntil([1, 10])).toBe(500); // records: 1 / 2 per s = 500 ms; bytes: 10 / 50 = 200 ms
    expect(bucket.msUntil([1, 100])).toBe(2000); // bytes bind: 100 / 50 per s
    scheduler.t += 500;
    expect(bucket.msUntil([1, 10])).toBe(0);
    expect(bucket.tryTake([1, 10])).toBe(true);
  });

  it('says never when an amount exceeds its capacity or its stream has no rate', () => {
    const { bucket } = bucketOf([
      { capacity: 10, ratePerSecond: 1 },
      { capacity: 10, ratePerSecond: 0 },
    ]);
    expect(bucket.msUntil([11, 0])).toBe(Infinity);
    bucket.tryTake([0, 10]);
    expect(bucket.msUntil([0, 1])).toBe(Infinity);
    expect(bucket.msUntil([0, 0])).toBe(0);
  });

  it.each([
    ['a length mismatch', [1]],
    ['a negative amount', [1, -1]],
    ['a NaN amount', [Number.NaN, 1]],
  ])('throws a RangeError for %s', (_what, amounts) => {
    const { bucket } = bucketOf([
      { capacity: 10, ratePerSecond: 1 },
      { capacity: 10, ratePerSecond: 1 },
    ]);
    expect(() => bucket.tryTake(amounts)).toThrow(RangeError);
    expect(() => bucket.msUntil(amounts)).toThrow(RangeError);
    expect(bucket.available(0)).toBe(10);
  });

  it.each([
    ['no stream', []],
    ['a negative capacity', [{ capacity: -1, ratePerSecond: 1 }]],
    ['an infinite rate', [{ capacity: 1, ratePerSecond: Infinity }]],
    ['a NaN rate', [{ capacity: 1, ratePerSecond: Number.NaN }]],
  ])('refuses %s when created', (_what, streams) => {
    expect(() => createTokenBucket({ streams, scheduler: clock() })).toThrow(RangeError);
  });

  it('refuses a bad index or rate in setRate, available and rate', () => {
    const { bucket } = bucketOf([{ capacity: 1, ratePerSecond: 1 }]);
    expect(() => bucket.setRate(1, 1)).toThrow(RangeError);
    expect(() => bucket.setRate(0, -1)).toThrow(RangeError);
    expect(() => bucket.available(-1)).toThrow(RangeError);
    expect(() => bucket.rate(0.5)).toThrow(RangeError);
  });

  it('never lets through more than capacity + rate × elapsed, and never holds more than capacity (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 300 }), amount: fc.integer({ min: 0, max: 50 }) }), { maxLength: 200 }),
        (capacity, rate, steps) => {
          const { scheduler, bucket } = bucketOf([{ capacity, ratePerSecond: rate }]);
          let taken = 0;
          for (const { dt, amount } of steps) {
            scheduler.t += dt;
            if (bucket.tryTake([amount])) taken += amount;
            const held = bucket.available(0);
            expect(held).toBeGreaterThanOrEqual(0);
            expect(held).toBeLessThanOrEqual(capacity);
          }
          expect(taken).toBeLessThanOrEqual(capacity + (rate * scheduler.t) / 1000 + 1e-3);
        },
      ),
    );
  });
});
