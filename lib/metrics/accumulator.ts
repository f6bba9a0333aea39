/**
 * Mirrors the KPL's `Accumulator` (`aws/metrics/accumulator.h`, kpl.md §9): count, sum, min and
 * max of doubles over 60 one-second buckets, plus a cumulative accumulator since start. A window
 * read sums counts and sums across its buckets and takes min/max across them; mean = sum/count.
 *
 * Two departures:
 * - The buckets are a fixed ring of 60 slots (slot = second mod 60) in one `Float64Array`,
 *   allocated once, so a put never allocates; a slot is "evicted" lazily when a newer second
 *   reuses it (aiokpl keeps a deque, kpl.md keeps a map of buckets).
 * - For the uploader, the accumulator keeps a checkpoint (the last second exported) and hands out
 *   the *delta* since it ({@link Accumulator.drain}): a bucket is exported exactly once, and a
 *   bucket that leaves the ring before it was exported is first folded into a pending total, so a
 *   slow uploader loses nothing (aiokpl D6 exported overlapping 60 s windows; kpl.md #648).
 */

/** count, sum, min and max of a set of samples. min and max are 0 when count is 0. */
export interface AccumulatedStats {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
}

/** The number of one-second buckets, as the KPL (kpl.md §9). */
export const BUCKET_COUNT = 60;

// Slot layout in the ring: [second, count, sum, min, max] × BUCKET_COUNT.
const STRIDE = 5;
const SEC = 0;
const COUNT = 1;
const SUM = 2;
const MIN = 3;
const MAX = 4;

const EMPTY: AccumulatedStats = Object.freeze({ count: 0, sum: 0, min: 0, max: 0 });

/**
 * Count, sum, min and max over 60 one-second buckets and since start; time is a whole second
 * number the caller computes once per put (`Math.floor(scheduler.now() / 1000)`).
 *
 * ```text
 * add(3, s=10)  add(5, s=10)  add(1, s=12)
 * read(12, 2)  → { count: 1, sum: 1, min: 1, max: 1 }      seconds 11 and 12
 * read(12, 3)  → { count: 3, sum: 9, min: 1, max: 5 }      seconds 10 … 12
 * read(70, 60) → { count: 1, … }                           second 10 has left the window (11 … 70)
 * read()       → { count: 3, sum: 9, min: 1, max: 5 }      cumulative
 * ```
 *
 * Not an rxjs object: nothing to complete or unsubscribe, no timers.
 *
 * @example const acc = new Accumulator(); acc.add(42, Math.floor(now / 1000));
 */
export class Accumulator {
  private readonly ring = new Float64Array(BUCKET_COUNT * STRIDE);
  private totalCount = 0;
  private totalSum = 0;
  private totalMin = Infinity;
  private totalMax = -Infinity;
  /** The last second handed out by drain(); buckets ≤ it are never exported again. */
  private exportedThrough = -Infinity;
  // Samples not yet exported that no longer sit in an unexported bucket (evicted, late or after a final drain).
  private pendingCount = 0;
  private pendingSum = 0;
  private pendingMin = Infinity;
  private pendingMax = -Infinity;

  constructor() {
    for (let i = 0; i < BUCKET_COUNT; i++) this.ring[i * STRIDE + SEC] = NaN;
  }

  /**
   * Adds one sample. Non-finite values are ignored (they would poison every sum).
   * @param value - the sample.
   * @param second - `Math.floor(nowMs / 1000)`.
   */
  add(value: number, second: number): void {
    if (Number.isFinite(value)) this.addFinite(value, second);
  }

  /** {@link Accumulator.add} for a value the caller already checked is finite (the recorder's hot path). */
  addFinite(value: number, second: number): void {
    this.totalCount++;
    this.totalSum += value;
    if (value < this.totalMin) this.totalMin = value;
    if (value > this.totalMax) this.totalMax = value;

    const ring = this.ring;
    let slot = second % BUCKET_COUNT;
    if (slot < 0) slot += BUCKET_COUNT;
    const base = slot * STRIDE;
    const slotSecond = ring[base + SEC];
    if (slotSecond !== second) {
      if (slotSecond > second) {
        // A late sample (the clock went back) whose slot already holds a newer second: it can
        // no longer be in any window, but it has not been exported yet.
        if (second > this.exportedThrough) this.addPending(value, 1, value, value);
        return;
      }
      // Lazy eviction: the slot's old second leaves the ring; keep it for the next export if unexported.
      if (slotSecond > this.exportedThrough && ring[base + COUNT] > 0) {
        this.addPending(ring[base + SUM], ring[base + COUNT], ring[base + MIN], ring[base + MAX]);
      }
      ring[base + SEC] = second;
      ring[base + COUNT] = 1;
      ring[base + SUM] = value;
      ring[base + MIN] = value;
      ring[base + MAX] = value;
    } else {
      ring[base + COUNT]++;
      ring[base + SUM] += value;
      if (value < ring[base + MIN]) ring[base + MIN] = value;
      if (value > ring[base + MAX]) ring[base + MAX] = value;
    }
    // A sample for a second already exported (after a final drain that took the current second)
    // goes to the next export instead of being lost.
    if (second <= this.exportedThrough) this.addPending(value, 1, value, value);
  }

  /**
   * Reads the last `windowSeconds` buckets (seconds `nowSecond − windowSeconds + 1 … nowSecond`),
   * or everything since start when `windowSeconds` is undefined.
   * @param nowSecond - `Math.floor(nowMs / 1000)`.
   * @param windowSeconds - 1 … 60, or undefined for the cumulative total.
   */
  read(nowSecond: number, windowSeconds?: number): AccumulatedStats {
    if (windowSeconds === undefined) {
      return this.totalCount === 0
        ? EMPTY
        : { count: this.totalCount, sum: this.totalSum, min: this.totalMin, max: this.totalMax };
    }
    return this.collect(nowSecond - windowSeconds, nowSecond);
  }

  /**
   * The delta since the previous drain: every sample of a second in (checkpoint, `throughSecond`],
   * plus samples kept pending; then moves the checkpoint to `throughSecond`. Each sample is
   * handed out by exactly one drain.
   * @param throughSecond - the last second to export (the uploader passes now − 1 s: complete seconds only).
   */
  drain(throughSecond: number): AccumulatedStats {
    const from = this.exportedThrough;
    if (throughSecond <= from) return this.takePending();
    const buckets = this.collect(from, throughSecond);
    this.exportedThrough = throughSecond;
    const pending = this.takePending();
    if (pending.count === 0) return buckets;
    if (buckets.count === 0) return pending;
    return {
      count: buckets.count + pending.count,
      sum: buckets.sum + pending.sum,
      min: Math.min(buckets.min, pending.min),
      max: Math.max(buckets.max, pending.max),
    };
  }

  /** The number of samples ever added (cheap: no window scan). */
  get total(): number {
    return this.totalCount;
  }

  /** Buckets with a second in (after, through]. */
  private collect(after: number, through: number): AccumulatedStats {
    const ring = this.ring;
    let count = 0;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let base = 0; base < ring.length; base += STRIDE) {
      const s = ring[base + SEC];
      if (s > after && s <= through) {
        count += ring[base + COUNT];
        sum += ring[base + SUM];
        if (ring[base + MIN] < min) min = ring[base + MIN];
        if (ring[base + MAX] > max) max = ring[base + MAX];
      }
    }
    return count === 0 ? EMPTY : { count, sum, min, max };
  }

  private addPending(sum: number, count: number, min: number, max: number): void {
    this.pendingCount += count;
    this.pendingSum += sum;
    if (min < this.pendingMin) this.pendingMin = min;
    if (max > this.pendingMax) this.pendingMax = max;
  }

  private takePending(): AccumulatedStats {
    if (this.pendingCount === 0) return EMPTY;
    const out = { count: this.pendingCount, sum: this.pendingSum, min: this.pendingMin, max: this.pendingMax };
    this.pendingCount = 0;
    this.pendingSum = 0;
    this.pendingMin = Infinity;
    this.pendingMax = -Infinity;
    return out;
  }
}
