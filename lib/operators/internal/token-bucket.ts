/**
 * A token bucket with several token streams taken all-or-nothing: the KPL's `TokenBucket`
 * (`aws/utils/token_bucket.h`, kpl.md §7). Generic: it knows nothing of Kinesis.
 *
 * Like the KPL, tokens grow by elapsed time (`tokens = min(capacity, tokens + rate × elapsed)`), the
 * bucket starts full, and taking never sleeps. Time is read only from the injected clock
 * (`scheduler.now()`, in ms), so virtual time drives it. Two additions the KPL lacks:
 * `setRate` (for throttle feedback: the Limiter's `add_error` is a TODO, kpl.md §7) and `msUntil`
 * (how long until amounts could be taken, so a caller can schedule a timer instead of polling).
 *
 * Worked numbers: a stream of capacity 1000 and rate 1500/s that is empty has 37.5 tokens 25 ms
 * later, and is full again 1000 / 1500 s ≈ 667 ms later.
 */
import type { SchedulerLike } from 'rxjs';

/** One stream of tokens: at most `capacity`, growing by `ratePerSecond` while below it. */
export interface TokenStream {
  /** The most tokens the stream holds (a finite number ≥ 0). */
  readonly capacity: number;
  /** Tokens added per second of elapsed time (a finite number ≥ 0). */
  readonly ratePerSecond: number;
}

/** Options for {@link createTokenBucket}. */
export interface TokenBucketOptions {
  /** The streams, in the order amounts are given to `tryTake` and `msUntil`. */
  readonly streams: readonly TokenStream[];
  /** Where time comes from (only `now()`, in ms, is read). */
  readonly scheduler: Pick<SchedulerLike, 'now'>;
}

/** Several token streams taken all-or-nothing. Built by {@link createTokenBucket}. */
export interface TokenBucket {
  /**
   * Takes `amounts[i]` tokens from stream `i` for every `i` if every stream holds enough, else
   * takes nothing. A zero amount always fits.
   * @param now - the current `scheduler.now()`, for a caller that has just read it (saves a clock read on a hot path).
   * @throws RangeError when the length differs from the stream count or an amount is negative or not a number.
   */
  tryTake(amounts: readonly number[], now?: number): boolean;
  /**
   * Ms from now until `tryTake(amounts)` would succeed at the current rates: 0 if it would now,
   * `Infinity` if never (an amount above a capacity, or a zero rate on a stream that lacks tokens).
   * @throws RangeError as `tryTake` does.
   */
  msUntil(amounts: readonly number[], now?: number): number;
  /** Tokens stream `index` holds now (after refilling). */
  available(index: number, now?: number): number;
  /** Changes stream `index`'s refill rate from now on; tokens grown so far are kept at the old rate. */
  setRate(index: number, ratePerSecond: number, now?: number): void;
  /** Stream `index`'s current refill rate per second. */
  rate(index: number): number;
}

/**
 * Float sums such as 0.1 × 10 can land a hair below the whole number they stand for; without this
 * slack a take due at exactly t would wait for the next drain. Far below any real amount.
 */
const EPSILON = 1e-6;

/**
 * Creates a {@link TokenBucket} whose streams all start full.
 *
 * ```text
 * streams [{ capacity: 2, ratePerSecond: 1 }]
 * t = 0      tryTake([2]) → true    tokens 0
 * t = 500    tryTake([1]) → false   tokens 0.5 (nothing taken)
 * t = 1000   tryTake([1]) → true    tokens 0
 * t = 9000   available(0) → 2       (capped at capacity)
 * ```
 *
 * - Never sleeps and holds no timer, so there is nothing to cancel.
 * - Zero elapsed time (or time going backwards) changes nothing.
 *
 * @example const bucket = createTokenBucket({ streams: [{ capacity: 1000, ratePerSecond: 1500 }], scheduler });
 *
 * @param options - the streams and the clock.
 * @returns a bucket, full.
 * @throws RangeError when there is no stream or a capacity or rate is negative or not finite.
 */
export function createTokenBucket(options: TokenBucketOptions): TokenBucket {
  const { streams, scheduler } = options;
  const n = streams.length;
  if (n === 0) throw new RangeError('a token bucket needs at least one stream');
  const capacity = new Float64Array(n);
  const rates = new Float64Array(n);
  const tokens = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const { capacity: c, ratePerSecond: r } = streams[i];
    checkRate('capacity', i, c);
    checkRate('ratePerSecond', i, r);
    capacity[i] = c;
    rates[i] = r;
    tokens[i] = c;
  }
  let last = scheduler.now();

  function refill(now: number): void {
    const elapsed = now - last;
    if (!(elapsed > 0)) return; // zero or negative: nothing grows and `last` stays (aiokpl test, §8.5 item 5)
    last = now;
    for (let i = 0; i < n; i++) {
      const grown = tokens[i] + (rates[i] * elapsed) / 1000;
      tokens[i] = grown < capacity[i] ? grown : capacity[i];
    }
  }

  function checkAmounts(amounts: readonly number[]): void {
    if (amounts.length !== n) throw new RangeError(`expected ${n} amounts, got ${amounts.length}`);
    for (let i = 0; i < n; i++) {
      // `!(a >= 0)` also refuses NaN
      if (!(amounts[i] >= 0)) throw new RangeError(`amount ${i} is ${amounts[i]}; allowed: a number ≥ 0`);
    }
  }

  function checkIndex(index: number): void {
    if (!(index >= 0 && index < n && Number.isInteger(index))) {
      throw new RangeError(`stream index ${index} is out of range 0 … ${n - 1}`);
    }
  }

  return {
    tryTake(amounts, now = scheduler.now()) {
      checkAmounts(amounts);
      refill(now);
      for (let i = 0; i < n; i++) if (tokens[i] + EPSILON < amounts[i]) return false;
      for (let i = 0; i < n; i++) {
        const left = tokens[i] - amounts[i];
        tokens[i] = left > 0 ? left : 0;
      }
      return true;
    },
    msUntil(amounts, now = scheduler.now()) {
      checkAmounts(amounts);
      refill(now);
      let wait = 0;
      for (let i = 0; i < n; i++) {
        const missing = amounts[i] - tokens[i];
        if (missing <= EPSILON) continue;
        if (amounts[i] > capacity[i] + EPSILON || rates[i] === 0) return Infinity;
        const ms = (missing * 1000) / rates[i];
        if (ms > wait) wait = ms;
      }
      return wait;
    },
    available(index, now = scheduler.now()) {
      checkIndex(index);
      refill(now);
      return tokens[index];
    },
    setRate(index, ratePerSecond, now = scheduler.now()) {
      checkIndex(index);
      checkRate('ratePerSecond', index, ratePerSecond);
      refill(now); // what grew until now grew at the old rate
      rates[index] = ratePerSecond;
    },
    rate(index) {
      checkIndex(index);
      return rates[index];
    },
  };
}

function checkRate(field: string, index: number, value: number): void {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new RangeError(`stream ${index} ${field} is ${value}; allowed: a finite number ≥ 0`);
  }
}
