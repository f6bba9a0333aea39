/**
 * The Retrier: turns each `SendOutcome` into one `Classified` per user record — a terminal
 * `RecordResult`, or a record to retry. Mirrors `aws/kinesis/core/retrier.cc` (kpl.md §8 table,
 * row by row) and aiokpl `retrier.py` (aiokpl.md §4.7), with these deliberate departures:
 *
 * 1. Non-retryable codes (`RETRY_TABLE` in `internal/retry-table.ts`) fail at once; the KPL retries
 *    everything until the TTL (kpl.md §13).
 * 2. A retry waits a jittered exponential backoff, not a fixed RecordMaxBufferedTime/2 (kpl.md §12 #35).
 * 3. An aggregated record that landed on a shard not owning ALL of its sub-records is re-sent whole,
 *    because the KCL drops such a record whole (kpl.md §13, first bullet); the KPL and aiokpl decide
 *    per user record and so lose the in-range ones for KCL consumers.
 * 4. The map is invalidated with the request's start time and the PREDICTED shard on every
 *    predicted ≠ actual (kpl.md §4, §8), which fixes aiokpl's B2 (aiokpl.md §9).
 * 5. Throttles are reported through `onThrottled` (the KPL's `Limiter::add_error` is a TODO, kpl.md §7).
 * 6. A record that expired in the limiter gets ONE attempt (`Expired`, "Expiration reached while
 *    waiting in limiter"); the KPL adds a second synthetic "has reached expiration" attempt after it,
 *    which says nothing new.
 * 7. A record that landed on a shard the map does not know yet (a new child) is judged once the map
 *    has reloaded (`shardMap.refreshedSince`), not re-sent blindly: the KPL's blind "Wrong Shard"
 *    re-send (kpl.md §8) writes a duplicate the KCL delivers whenever the unknown shard's range
 *    holds every sub-record (always after a merge, and for every single record).
 */
import { Observable, type ObservableInput, OperatorFunction, SchedulerLike, Subscription, from } from 'rxjs';
import { hashKeyToBigInt } from '../codec/hash';
import { checkOptionsObject, resolveConfig, resolveScheduler, ValidationError } from '../config';
import type { Attempt, BufferedRecord, Classified, KinesisRecord, PutRecordsResponseEntry, RecordResult, SendOutcome } from '../records';
import { assertNever } from '../records';
import { failedAttempt, failedResult, makeAttempt, successResult, withAttempt } from './internal/attempts';
import { guard } from './internal/guard';
import { classifyErrorCode, RETRIER_ERROR_CODES } from './internal/retry-table';

/** The part of a `ShardMap` the Retrier uses (aiokpl's `_ShardMapForRetrier` protocol). */
export interface ShardMapForRetrier {
  /** The hash-key range of a shard, open or recently closed; `undefined` when unknown. */
  hashRange(shardId: string): { readonly startingHashKey: bigint; readonly endingHashKey: bigint } | undefined;
  /** Asks for a refresh: a record predicted for `predictedShardId` landed elsewhere in a request started at `seenAt`. */
  invalidate(seenAt: number, predictedShardId?: string): void;
  /**
   * Optional: emits (once) when the map holds a snapshot loaded at or after `since`, loading one if
   * need be; completes without a value when it never will ({@link ShardMap.refreshedSince}). With
   * it, a record that landed on a shard the map does not know waits for that snapshot before it is
   * judged, instead of being re-sent blindly.
   */
  refreshedSince?(since: number): ObservableInput<unknown>;
}

/** What {@link RetryClassifyOptions.onThrottled} is told: a shard answered ProvisionedThroughputExceeded. */
export interface ThrottleSignal {
  readonly streamName: string;
  /** The shard the throttled Kinesis record was predicted for. */
  readonly shardId: string;
}

/** Options of {@link retryClassify}. */
export interface RetryClassifyOptions {
  /** The base of the backoff: the first retry waits up to half of it. Default 100, 0 … 3600000. */
  recordMaxBufferedTimeMs?: number;
  /** Fail a throttled record after its first attempt instead of retrying. Default false. */
  failIfThrottled?: boolean;
  /** Hash ranges for wrong-shard checks, and where invalidations go. Without it, a wrong shard is retried. */
  shardMap?: ShardMapForRetrier;
  /** Called once per throttled Kinesis record that had a predicted shard (e.g. to slow that shard's limiter). */
  onThrottled?: (signal: ThrottleSignal) => void;
  /** Jitter source in [0, 1). Default `Math.random`; tests pass a constant. */
  random?: () => number;
  /** The longest backoff, in ms. Default 2000, 0 … 3600000. */
  maxBackoffMs?: number;
  /** Where `now` comes from (expiry checks, new deadlines). Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /**
   * How long a record that landed on a shard of unknown range waits for the map's refresh (needs
   * `shardMap.refreshedSince`) before it is re-sent as `Wrong Shard` anyway, in ms. 0 never waits.
   * Default 5000, 0 … 600000.
   */
  unknownShardWaitMs?: number;
}

/** Default {@link RetryClassifyOptions.maxBackoffMs}. */
export const DEFAULT_MAX_BACKOFF_MS = 2000;

/** Default {@link RetryClassifyOptions.unknownShardWaitMs}. */
export const DEFAULT_UNKNOWN_SHARD_WAIT_MS = 5000;

/**
 * Classifies each outcome's user records: success, final failure, or retry with a new deadline.
 * Emits exactly one `Classified` per user record: synchronously and in the batch's order, except
 * for a Kinesis record that landed on a shard of unknown range, whose user records are emitted when
 * the map has caught up (departure 7 below): after a merge the unknown child's range holds every
 * key, so a blind re-send would be a duplicate the KCL delivers.
 *
 * ```text
 * source:   -a---b-|     a = answered: r1 ok, r2 InternalFailure    b = answered: r3 ResourceNotFoundException
 * result:   -(xy)z-|     x = result r1 (success)   y = retry r2 (deadline = 1 + 0.5 × 50 = 26 with random() 0.5)
 *                        z = result r3 (failed)
 * ```
 *
 * | outcome | each user record |
 * |---|---|
 * | `expired` (limiter) | fails: one attempt `Expired`, "Expiration reached while waiting in limiter" |
 * | answered, entry count ≠ request count | fails: `Record Count Mismatch` |
 * | entry ok, predicted = actual, or no prediction | succeeds (shard id, sequence number shared by an aggregated record) |
 * | entry ok, predicted ≠ actual, actual range holds every sub-record's hash key | succeeds; map invalidated once |
 * | entry ok, predicted ≠ actual, actual range unknown, `shardMap.refreshedSince` given | held (not emitted) until the map has a snapshot loaded after the answer, at most `unknownShardWaitMs`; then judged by the two rows around this one (still unknown: `Wrong Shard`) |
 * | entry ok, predicted ≠ actual, range unknown or missing any key | ALL user records of the Kinesis record retried as `Wrong Shard` (the record WAS written: the retry writes a duplicate, by design, so KCL consumers do not lose the in-range ones); map invalidated once |
 * | entry error / unanswered, non-retryable code | fails at once |
 * | entry error / unanswered, throttled and `failIfThrottled` | fails at once |
 * | entry error / unanswered, other code (a missing code is `Unknown`) | retried |
 *
 * A retry appends the failed attempt; if `now > expiration` the record fails instead, with an extra
 * attempt `Expired`, "Record has reached expiration" (kpl.md §8 `retry_not_expired`). Otherwise
 * `deadline = min(expiration, now + backoff)`, with full jitter:
 * `backoff = random() × min(maxBackoffMs, recordMaxBufferedTimeMs/2 × 2^(failedAttempts − 1))`.
 * At the defaults (100 ms, cap 2000 ms) the ceilings after failures 1, 2, 3 … are
 * 50, 100, 200, 400, 800, 1600, 2000, 2000 … ms (mean half of that). The first ceiling is the KPL's
 * fixed 50 ms. The cap of 2 s spans two refills of a shard's per-second budget (kpl.md §7), so a
 * throttled shard has room again before the next try, while the default 30 s TTL still holds about
 * 19 tries when answers are quick (the first 6 retries wait at most 50+100+…+1600 = 3150 ms in all,
 * then at most 2 s each; with jitter, half that on average).
 *
 * - Completion: after the source completes and every held Kinesis record is judged.
 * - Error: passed through at once; held records get nothing.
 * - Unsubscribe: cancels the waits of held records (their timers and map subscriptions).
 * - A throw from `onThrottled` or `shardMap` errors the result.
 *
 * @example outcomes$.pipe(retryClassify({ shardMap, recordMaxBufferedTimeMs: 100, onThrottled: (s) => slowDown(s.shardId) }))
 *
 * @param options - the backoff, the throttle policy, the shard map and the scheduler.
 * @returns an operator from outcomes to classified user records.
 * @throws ValidationError for an option out of range or of the wrong type.
 */
export function retryClassify(options: RetryClassifyOptions = {}): OperatorFunction<SendOutcome, Classified> {
  const classify = retrierOf(options);
  return (source) =>
    new Observable<Classified>((subscriber) =>
      classify(source, {
        result: (result) => subscriber.next({ kind: 'result', result }),
        retry: (record) => subscriber.next({ kind: 'retry', record }),
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      }),
    );
}

/**
 * Where the Retrier's verdicts go, one call per user record, in the order {@link retryClassify}
 * emits them. A result comes with the carrier it was made from: the producer reads its payload size
 * (`dataBytesOf`) and its `token` there, both warm, instead of going back to the user's record.
 * @internal
 */
export interface RetrierSink {
  result(result: RecordResult, carrier: BufferedRecord): void;
  retry(record: BufferedRecord): void;
  error(err: unknown): void;
  complete(): void;
}

/**
 * {@link retryClassify} without the `Classified` wrapper: validates `options` at once (throwing as
 * retryClassify does) and returns a function that subscribes to outcomes and hands each verdict to
 * a {@link RetrierSink}. The producer's pipeline uses it directly, so a successful record costs one
 * call and its `RecordResult`, not a wrapper object and a trip through a Subscriber chain.
 * Completion, error and unsubscription (the returned Subscription) behave as retryClassify's.
 * @internal
 */
export function retrierOf(options: RetryClassifyOptions = {}): (source: Observable<SendOutcome>, sink: RetrierSink) => Subscription {
  checkOptionsObject(options);
  const config = resolveConfig({ recordMaxBufferedTimeMs: options.recordMaxBufferedTimeMs, failIfThrottled: options.failIfThrottled });
  const maxBackoffMs = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  if (typeof maxBackoffMs !== 'number' || !Number.isFinite(maxBackoffMs) || maxBackoffMs < 0 || maxBackoffMs > 3600000) {
    throw new ValidationError('maxBackoffMs', maxBackoffMs, 'a number 0 … 3600000');
  }
  const unknownShardWaitMs = options.unknownShardWaitMs ?? DEFAULT_UNKNOWN_SHARD_WAIT_MS;
  if (typeof unknownShardWaitMs !== 'number' || !Number.isFinite(unknownShardWaitMs) || unknownShardWaitMs < 0 || unknownShardWaitMs > 600000) {
    throw new ValidationError('unknownShardWaitMs', unknownShardWaitMs, 'a number 0 … 600000');
  }
  checkFunction('random', options.random);
  checkFunction('onThrottled', options.onThrottled);
  const { shardMap } = options;
  if (shardMap !== undefined && (typeof shardMap?.hashRange !== 'function' || typeof shardMap.invalidate !== 'function')) {
    throw new ValidationError('shardMap', shardMap, 'an object with hashRange and invalidate methods');
  }
  const retrier: Retrier = {
    baseMs: config.recordMaxBufferedTimeMs / 2,
    maxBackoffMs,
    failIfThrottled: config.failIfThrottled,
    shardMap,
    onThrottled: options.onThrottled,
    random: options.random ?? Math.random,
    scheduler: resolveScheduler(options.scheduler),
    unknownShardWaitMs,
  };
  const canWait = unknownShardWaitMs > 0 && typeof shardMap?.refreshedSince === 'function';
  return (source, sink) => {
    const held = new Set<Subscription>();
    let sourceDone = false;
    let stopped = false;
    // Unsubscribing, or an error, cancels the waits of held records (their timers and map subscriptions).
    const all = new Subscription(() => {
      stopped = true;
      for (const wait of held) wait.unsubscribe();
      held.clear();
    });
    // A throw from onThrottled, the shard map or the sink errors the result once (STYLE.md §1 guard).
    const fail = (err: unknown): void => {
      if (stopped) return;
      all.unsubscribe();
      sink.error(err);
    };
    const finish = (): void => {
      all.unsubscribe();
      sink.complete();
    };
    const hold = (kr: KinesisRecord, entry: PutRecordsResponseEntry, outcome: SendOutcome): void => {
      const wait = new Subscription();
      let judged = false;
      const judge = guard({ error: fail }, () => {
        if (judged || stopped) return;
        judged = true;
        wait.unsubscribe();
        held.delete(wait);
        classifySuccess(kr, entry, outcome, retrier, sink, 'held');
        if (sourceDone && held.size === 0) finish();
      });
      held.add(wait);
      wait.add(retrier.scheduler.schedule(judge, unknownShardWaitMs));
      if (!judged) {
        // A map that answers synchronously judges inside subscribe(): `wait` is closed by then, and
        // add() on a closed Subscription unsubscribes what it is given at once (nothing leaks).
        const since = outcome.endedAt;
        wait.add(from((shardMap as Required<ShardMapForRetrier>).refreshedSince(since)).subscribe({ next: judge, complete: judge, error: judge }));
      }
    };
    all.add(
      source.subscribe({
        next: guard({ error: fail }, (outcome: SendOutcome) => {
          if (!stopped) classifyOutcome(outcome, retrier, sink, canWait ? hold : undefined);
        }),
        error: fail,
        complete: () => {
          sourceDone = true;
          if (held.size === 0 && !stopped) finish();
        },
      }),
    );
    return all;
  };
}

/** Holds a Kinesis record that landed on a shard of unknown range until the map catches up. */
type Hold = (kr: KinesisRecord, entry: PutRecordsResponseEntry, outcome: SendOutcome) => void;

function checkFunction(field: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw new ValidationError(field, value, 'a function');
}

interface Retrier {
  readonly baseMs: number;
  readonly maxBackoffMs: number;
  readonly failIfThrottled: boolean;
  readonly shardMap: ShardMapForRetrier | undefined;
  readonly onThrottled: ((signal: ThrottleSignal) => void) | undefined;
  readonly random: () => number;
  readonly scheduler: SchedulerLike;
  readonly unknownShardWaitMs: number;
}

/** The one function that reads the kpl.md §8 table (see {@link retryClassify}); each verdict goes to `sink` as it is made. */
function classifyOutcome(outcome: SendOutcome, r: Retrier, sink: RetrierSink, hold?: Hold): void {
  const { batch, startedAt, endedAt } = outcome;
  switch (outcome.kind) {
    case 'expired':
      failAll(batch.records, startedAt, endedAt, RETRIER_ERROR_CODES.expired, 'Expiration reached while waiting in limiter', sink);
      return;
    case 'unanswered':
      for (const kr of batch.records) {
        classifyError(kr, outcome.errorCode || RETRIER_ERROR_CODES.unknown, outcome.errorMessage ?? '', outcome, r, sink);
      }
      return;
    case 'answered': {
      const entries = outcome.records;
      const krs = batch.records;
      if (entries.length !== krs.length) {
        const message = `PutRecords answered ${entries.length} entries for a request of ${krs.length}`;
        failAll(krs, startedAt, endedAt, RETRIER_ERROR_CODES.recordCountMismatch, message, sink);
        return;
      }
      for (let i = 0; i < krs.length; i++) {
        const kr = krs[i];
        const entry = entries[i];
        const actual = entry.ShardId;
        if (entry.SequenceNumber && actual !== undefined && (kr.predictedShard === undefined || kr.predictedShard === actual)) {
          succeedAll(kr, actual, entry.SequenceNumber, startedAt, endedAt, sink);
          continue;
        }
        if (entry.SequenceNumber) {
          if (classifySuccess(kr, entry, outcome, r, sink, hold === undefined ? 'only' : 'first') === 'unknown') hold?.(kr, entry, outcome);
        }
        else classifyError(kr, entry.ErrorCode || RETRIER_ERROR_CODES.unknown, entry.ErrorMessage ?? '', outcome, r, sink);
      }
      return;
    }
    default:
      return assertNever(outcome);
  }
}

/** Every user record of `krs` fails at once with one attempt (`code`, `message`). */
function failAll(krs: readonly KinesisRecord[], startedAt: number, endedAt: number, code: string, message: string, sink: RetrierSink): void {
  for (const kr of krs) {
    for (const ur of kr.records) sink.result(failedResult(ur, failedAttempt(ur, startedAt, endedAt, code, message)), ur);
  }
}

/**
 * The common case: every user record of `kr` succeeds where predicted. Fixed-shape literals, no
 * spread for first attempts. First attempts of user records that arrived in the same ms are equal
 * field for field (same times, shard and sequence number; delayMs = startedAt − arrival), so those
 * results share one `Attempt` and one `attempts` array — both read-only in `RecordResult`. With
 * `from(array)` that is nearly every record of an aggregated Kinesis record: two allocations a
 * record fewer, and less for the scavenger to copy.
 */
function succeedAll(kr: KinesisRecord, shardId: string, sequenceNumber: string, startedAt: number, endedAt: number, sink: RetrierSink): void {
  const records = kr.records;
  const durationMs = endedAt - startedAt;
  let sharedArrival = NaN; // NaN equals nothing: the first first-attempt record builds the first shared attempt
  let shared: readonly Attempt[] = [];
  for (let j = 0; j < records.length; j++) {
    const ur = records[j];
    const previous = ur.attempts;
    const n = previous.length;
    let attempts: readonly Attempt[];
    if (n === 0) {
      if (ur.arrival !== sharedArrival) {
        sharedArrival = ur.arrival;
        // Shared by the results of every record that arrived in the same ms: frozen, so one user's
        // mutation (the public type is readonly, plain JS can still try) cannot reach another's result.
        shared = Object.freeze([Object.freeze({ startedAt, endedAt, delayMs: startedAt - ur.arrival, durationMs, success: true, shardId, sequenceNumber })]);
      }
      attempts = shared;
    } else {
      const attempt: Attempt = { startedAt, endedAt, delayMs: startedAt - previous[n - 1].endedAt, durationMs, success: true, shardId, sequenceNumber };
      attempts = [...previous, attempt];
    }
    sink.result({ record: ur.record, success: true, shardId, sequenceNumber, attempts }, ur);
  }
}

/**
 * Judges one successful entry. `'first'`: invalidates the map on a wrong shard and, if the actual
 * shard's range is unknown, emits nothing and returns `'unknown'` (the caller holds it). `'only'`
 * (no hold possible): invalidates and always emits, re-sending on an unknown range. `'held'` (after
 * the hold): the same without invalidating again.
 */
function classifySuccess(
  kr: KinesisRecord,
  entry: PutRecordsResponseEntry,
  outcome: SendOutcome,
  r: Retrier,
  sink: RetrierSink,
  pass: 'first' | 'only' | 'held',
): 'judged' | 'unknown' {
  const actual = entry.ShardId;
  const predicted = kr.predictedShard;
  let landedWell = predicted === undefined || actual === undefined || predicted === actual;
  let reason = '';
  if (!landedWell) {
    // Once per Kinesis record: all its user records share the prediction (kpl.md §8, last bullet).
    if (pass !== 'held') r.shardMap?.invalidate(outcome.startedAt, predicted);
    const range = r.shardMap?.hashRange(actual as string);
    if (range === undefined && pass === 'first') return 'unknown';
    if (range === undefined) {
      reason = `it landed on ${actual}, whose hash range is unknown (predicted ${predicted})`;
    } else {
      landedWell = kr.records.every((ur) => {
        const key = hashKeyToBigInt(ur.hashKey);
        return key >= range.startingHashKey && key <= range.endingHashKey;
      });
      reason = `it landed on ${actual}, whose hash range does not hold every hash key of the Kinesis record (predicted ${predicted})`;
    }
  }
  const wrongShard = landedWell ? undefined : `Record did not end up in expected shard: ${reason}; it was written there, so the retry writes a duplicate`;
  for (const ur of kr.records) {
    // Written either way: a Wrong Shard attempt too carries the shard and sequence number it landed
    // with, for whoever dedupes the copies.
    const attempt = makeAttempt(ur, {
      startedAt: outcome.startedAt,
      endedAt: outcome.endedAt,
      success: landedWell,
      errorCode: wrongShard === undefined ? undefined : RETRIER_ERROR_CODES.wrongShard,
      errorMessage: wrongShard,
      shardId: actual,
      sequenceNumber: entry.SequenceNumber,
    });
    if (landedWell) sink.result(successResult(ur, attempt), ur);
    else retryNotExpired(ur, attempt, r, sink);
  }
  return 'judged';
}

function classifyError(kr: KinesisRecord, code: string, message: string, outcome: SendOutcome, r: Retrier, sink: RetrierSink): void {
  const { action, throttled } = classifyErrorCode(code, r.failIfThrottled);
  if (throttled && kr.predictedShard !== undefined) r.onThrottled?.({ streamName: kr.streamName, shardId: kr.predictedShard });
  for (const ur of kr.records) {
    const attempt = failedAttempt(ur, outcome.startedAt, outcome.endedAt, code, message);
    if (action === 'fail') sink.result(failedResult(ur, attempt), ur);
    else retryNotExpired(ur, attempt, r, sink);
  }
}

/** kpl.md §8 `retry_not_expired`, with a jittered exponential backoff instead of a fixed half-buffer-time. */
function retryNotExpired(record: BufferedRecord, attempt: Attempt, r: Retrier, sink: RetrierSink): void {
  const tried = withAttempt(record, attempt);
  const now = r.scheduler.now();
  if (now > record.expiration) {
    const expired = failedAttempt(tried, now, now, RETRIER_ERROR_CODES.expired, 'Record has reached expiration');
    sink.result(failedResult(tried, expired), record);
    return;
  }
  const failures = tried.attempts.reduce((n, a) => (a.success ? n : n + 1), 0);
  const deadline = Math.min(record.expiration, now + backoffMs(failures, r));
  sink.retry({ ...tried, deadline });
}

/** Full jitter (random × ceiling); 2^(n−1) is bounded so a zero base never makes NaN. */
function backoffMs(failures: number, r: Retrier): number {
  const ceiling = Math.min(r.maxBackoffMs, r.baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 52));
  const jitter = Math.min(1, Math.max(0, r.random()));
  return jitter * ceiling;
}
