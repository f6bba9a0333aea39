/**
 * Request bodies reused across the PutRecords requests of one `putRecords` operator (issue 8).
 *
 * Why: a full PutRecords body is up to ~7 MB (5 MiB of data as base64 plus the JSON around it).
 * Allocated fresh per request, each one is native memory that lives until V8 next collects its
 * Buffer — several seconds of garbage bodies at a few requests per second — and each comes from
 * and goes back to the C allocator (an `mmap`/`munmap` pair, or holes in the malloc arena). That
 * churn, not the producer's live data, made a long Writable pipeline's RSS swing by 50–90 MB
 * between samples. Reused, the bodies in memory are the requests in flight plus at most
 * `maxIdle` idle ones, whatever the run's length.
 *
 * When a body comes back: only after its request was **answered** (the send resolved). A
 * PutRecords answer means the server read the whole body, and the SDK reads a request's body only
 * inside `send` (signing, writing, its own retries). A request that failed, timed out or was
 * aborted keeps its body — the socket may still be writing it — and V8 frees it as before.
 *
 * Bodies under {@link MIN_POOLED} bytes are not pooled (Node's own allocator handles those well,
 * and a small producer should not hold megabytes for nothing). A pool lives as long as its
 * operator: unsubscribing the producer lets V8 free the idle bodies.
 */

/** Bodies smaller than this are allocated as usual and never kept. */
export const MIN_POOLED = 65536;
/** Pooled bodies are cut from buffers of this granularity (at least), so a slightly larger request still fits. */
const GRANULE = 1048576;

/** How much to allocate for a pooled body of `size` bytes: the next power of two up to 1 MiB, then whole MiB. */
function capacityFor(size: number): number {
  if (size >= GRANULE) return Math.ceil(size / GRANULE) * GRANULE;
  let capacity = MIN_POOLED;
  while (capacity < size) capacity *= 2;
  return capacity;
}

export class BodyPool {
  /** Whole buffers ready to be lent, at most `maxIdle`. */
  private readonly idle: Buffer[] = [];
  /** Lent bodies by the request (command) that holds them. */
  private readonly lent = new WeakMap<object, Buffer>();

  /** @param maxIdle - how many idle bodies to keep (the largest ones). */
  constructor(private readonly maxIdle = 4) {}

  /** Idle bodies kept now (for tests and benchmarks). */
  get idleCount(): number {
    return this.idle.length;
  }

  /**
   * A body of exactly `size` bytes, not zeroed, lent to `owner` until {@link giveBack} — a reused
   * one when an idle body is large enough (the smallest such), else a new one.
   */
  lend(size: number, owner: object): Buffer {
    if (size < MIN_POOLED) return Buffer.allocUnsafe(size);
    let best = -1;
    for (let i = 0; i < this.idle.length; i++) {
      const length = this.idle[i].length;
      if (length >= size && (best < 0 || length < this.idle[best].length)) best = i;
    }
    const whole = best < 0 ? Buffer.allocUnsafeSlow(capacityFor(size)) : this.idle.splice(best, 1)[0];
    this.lent.set(owner, whole);
    return whole.subarray(0, size);
  }

  /** `owner`'s request was answered: its body (if it had a pooled one) may be lent again. */
  giveBack(owner: object): void {
    const whole = this.lent.get(owner);
    if (whole === undefined) return;
    this.lent.delete(owner);
    if (this.idle.length < this.maxIdle) {
      this.idle.push(whole);
      return;
    }
    // Full: keep the larger buffers, which serve every request the smaller ones could.
    let smallest = 0;
    for (let i = 1; i < this.idle.length; i++) if (this.idle[i].length < this.idle[smallest].length) smallest = i;
    if (this.idle[smallest].length < whole.length) this.idle[smallest] = whole;
  }
}
