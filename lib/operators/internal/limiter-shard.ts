/**
 * One shard's limiter: the KPL's `ShardLimiter` (`aws/kinesis/core/limiter.h`, kpl.md §7) — a token
 * bucket with a records stream and a bytes stream, and a queue ordered by deadline — plus throttle
 * feedback, which the KPL leaves as a TODO (`add_error` has an empty body).
 *
 * Buckets (kpl.md §7): records capacity 1000, refill 1000 × rateLimit/100 per second; bytes capacity
 * 10 MiB (so a maximal record can pass, #677), refill 1 MiB × rateLimit/100 per second. `rateLimit`
 * scales the refill only. A Kinesis record costs 1 record token and `record.size` bytes.
 *
 * Throttle feedback is AIMD, as TCP congestion control (RFC 5681): halve on congestion, grow back
 * linearly. Multiplicative decrease backs off fast from a shard that Kinesis says is over its limit
 * (someone else writes to it, or a hot hash range); additive increase probes slowly back up.
 * - {@link THROTTLE_DECREASE}: a throttle signal multiplies the refill rates by 0.5.
 * - {@link THROTTLE_FLOOR}: never below 10% of nominal, so a shard always drains (at the default
 *   150% that is 150 records/s and 150 KiB/s) and records do not all expire during a long throttle.
 * - {@link THROTTLE_DEBOUNCE_MS}: at most one decrease per 100 ms per shard. One PutRecords answer
 *   reports each of its throttled records at once, and the requests already in flight when the first
 *   answer came (up to maxInFlightRequests, sent within one round trip) report the same congestion;
 *   TCP likewise reduces once per window, not once per lost segment. 100 ms is about one PutRecords
 *   round trip. Without it, 500 throttled records of one answer would take the rate to the floor.
 * - {@link THROTTLE_RECOVERY_PER_SECOND}: the rate grows back by 10% of nominal per second since the
 *   last decrease: from one halving (100% → 50%) back to nominal in 5 s, from the floor in 9 s.
 *   Recovery is computed from scheduler time when the shard drains or is throttled (lazily: while a
 *   shard is idle its bucket keeps the last rate it was set to, which only errs on the slow side).
 */
import type { SchedulerLike } from 'rxjs';
import type { KinesisRecord } from '../../records';
import { createTokenBucket, type TokenBucket } from './token-bucket';

/** The KPL's `kRecordsPerSecLimit`: records per second a shard takes (kpl.md §7). */
export const RECORDS_PER_SECOND = 1000;
/** The KPL's `kBytesPerSecLimit`: bytes per second a shard takes (kpl.md §7). */
export const BYTES_PER_SECOND = 1048576;
/** The KPL's `kBytesPerRecordLimit`: the bytes bucket's capacity, 10 MiB (kpl.md §7, #677). */
export const BYTES_CAPACITY = 10485760;

/** Factor applied to the refill rates on a throttle signal. */
export const THROTTLE_DECREASE = 0.5;
/** The lowest refill rate throttling leads to, as a fraction of nominal. */
export const THROTTLE_FLOOR = 0.1;
/** Throttle signals for one shard closer than this to the last decrease are ignored, in ms. */
export const THROTTLE_DEBOUNCE_MS = 100;
/** Fraction of nominal the refill rate regains per second after a decrease. */
export const THROTTLE_RECOVERY_PER_SECOND = 0.1;

/** One shard's bucket, queue and throttle state. Plain data; the functions below act on it. */
export interface ShardLimiter {
  readonly streamName: string;
  readonly shardId: string;
  readonly bucket: TokenBucket;
  /** Waiting records, by deadline ascending; equal deadlines keep arrival order. */
  readonly queue: KinesisRecord[];
  /** The earliest expiration in `queue` (Infinity when empty): drains skip the expiry scan until then. */
  minExpiration: number;
  /** Nominal refill rates (records/s, bytes/s): the KPL's, from `rateLimit`. */
  readonly nominalRecords: number;
  readonly nominalBytes: number;
  /** The current refill rate as a fraction of nominal, THROTTLE_FLOOR … 1. */
  factor: number;
  /** When the last decrease happened (−Infinity if never), and the factor it set. */
  throttledAt: number;
  factorAtThrottle: number;
  /** Scratch `[records, bytes]` amounts, reused so taking tokens allocates nothing. */
  readonly cost: number[];
  /** The limiter of the same shard id in another stream: a chain, short (one link per stream). */
  otherStream: ShardLimiter | undefined;
}

/** A limiter for one shard, its bucket full, at the nominal rate `rateLimit`% (kpl.md §7). */
export function createShardLimiter(
  streamName: string,
  shardId: string,
  rateLimit: number,
  scheduler: Pick<SchedulerLike, 'now'>,
): ShardLimiter {
  const multiplier = rateLimit / 100; // floating point, as the KPL's token_growth_multiplier
  const nominalRecords = RECORDS_PER_SECOND * multiplier;
  const nominalBytes = BYTES_PER_SECOND * multiplier;
  const bucket = createTokenBucket({
    streams: [
      { capacity: RECORDS_PER_SECOND, ratePerSecond: nominalRecords },
      { capacity: BYTES_CAPACITY, ratePerSecond: nominalBytes },
    ],
    scheduler,
  });
  return {
    streamName,
    shardId,
    bucket,
    queue: [],
    minExpiration: Infinity,
    nominalRecords,
    nominalBytes,
    factor: 1,
    throttledAt: -Infinity,
    factorAtThrottle: 1,
    cost: [1, 0],
    otherStream: undefined,
  };
}

/** Takes 1 record token and `record.size` byte tokens if both fit at `now` (all-or-nothing). */
export function tryAdmit(limiter: ShardLimiter, record: KinesisRecord, now: number): boolean {
  limiter.cost[1] = record.size;
  return limiter.bucket.tryTake(limiter.cost, now);
}

/** Inserts by deadline, after any record with an equal deadline (stable). */
export function enqueue(limiter: ShardLimiter, record: KinesisRecord): void {
  const queue = limiter.queue;
  const deadline = record.deadline;
  if (record.expiration < limiter.minExpiration) limiter.minExpiration = record.expiration;
  // Usual case: deadlines arrive in order, so the record goes last.
  if (queue.length === 0 || queue[queue.length - 1].deadline <= deadline) {
    queue.push(record);
    return;
  }
  let lo = 0;
  let hi = queue.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (queue[mid].deadline <= deadline) lo = mid + 1;
    else hi = mid;
  }
  queue.splice(lo, 0, record);
}

/** What one drain let out: expired records (expiration order), then admitted ones (deadline order). */
export interface Drained {
  readonly expired: KinesisRecord[];
  readonly admitted: KinesisRecord[];
}

/**
 * The KPL's drain (kpl.md §7): first every expired record leaves, in expiration order, taking no
 * tokens (`consume_expired`); then records are admitted in deadline order until the first that does not
 * fit (`consume_by_deadline`: head-of-line blocking). The queue is settled before this returns, so
 * emitting the result afterwards is safe if downstream re-enters. Returns `null` (allocating
 * nothing) when nothing leaves, the usual case for a drain on arrival behind a blocked head.
 *
 * Expired means `now > expiration`: the KPL's `TimeSensitive::expired()` and the Retrier's check
 * (kpl.md §8, "A retry finds the user record expired (`now > expiration`)"), so a record is still
 * admitted at the very ms of its expiration.
 */
export function drainShard(limiter: ShardLimiter, now: number): Drained | null {
  recover(limiter, now);
  const queue = limiter.queue;
  let expired: KinesisRecord[] | null = null;
  if (now > limiter.minExpiration) {
    // The KPL walks an expiration index; a scan is as cheap for short queues and runs only when one has expired.
    expired = [];
    let kept = 0;
    let minExpiration = Infinity;
    for (let i = 0; i < queue.length; i++) {
      const record = queue[i];
      if (now > record.expiration) expired.push(record);
      else {
        queue[kept++] = record;
        if (record.expiration < minExpiration) minExpiration = record.expiration;
      }
    }
    queue.length = kept;
    limiter.minExpiration = minExpiration;
    // The KPL's consume_expired walks its expiration index; sort is stable, so ties keep deadline order.
    if (expired.length > 1) expired.sort(byExpiration);
  }
  let taken = 0;
  while (taken < queue.length && tryAdmit(limiter, queue[taken], now)) taken++;
  if (taken === 0) return expired === null ? null : { expired, admitted: [] };
  const admitted = queue.splice(0, taken);
  if (queue.length === 0) limiter.minExpiration = Infinity;
  return { expired: expired ?? [], admitted };
}

function byExpiration(a: KinesisRecord, b: KinesisRecord): number {
  return a.expiration - b.expiration;
}

/** The refill factor at `now`: the last decrease plus THROTTLE_RECOVERY_PER_SECOND per second since. */
export function factorAt(limiter: ShardLimiter, now: number): number {
  if (limiter.factorAtThrottle >= 1) return 1;
  const grown = limiter.factorAtThrottle + (THROTTLE_RECOVERY_PER_SECOND * (now - limiter.throttledAt)) / 1000;
  return grown < 1 ? grown : 1;
}

/** Brings the bucket's rates up to the recovered factor (additive increase). */
export function recover(limiter: ShardLimiter, now: number): void {
  if (limiter.factor >= 1) return;
  setFactor(limiter, factorAt(limiter, now), now);
}

/**
 * A throttle signal for this shard: halve the refill rates (floor 10% of nominal), unless the last
 * decrease was less than THROTTLE_DEBOUNCE_MS ago. Returns whether the rate was lowered.
 */
export function throttle(limiter: ShardLimiter, now: number): boolean {
  if (now - limiter.throttledAt < THROTTLE_DEBOUNCE_MS) return false;
  const lowered = factorAt(limiter, now) * THROTTLE_DECREASE;
  const factor = lowered > THROTTLE_FLOOR ? lowered : THROTTLE_FLOOR;
  limiter.throttledAt = now;
  limiter.factorAtThrottle = factor;
  setFactor(limiter, factor, now);
  return true;
}

function setFactor(limiter: ShardLimiter, factor: number, now: number): void {
  if (factor === limiter.factor) return;
  limiter.factor = factor;
  limiter.bucket.setRate(0, limiter.nominalRecords * factor, now);
  limiter.bucket.setRate(1, limiter.nominalBytes * factor, now);
}
