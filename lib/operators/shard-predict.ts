/**
 * shardPredict: the first stage of the pipeline. Validates each user record, computes its hash key
 * and predicts its shard from the stream's {@link ShardMap} (the KPL does this in
 * `Aggregator::put` via `shard_map_->shard_id(hash_key)`, kpl.md §3–4), and stamps the KPL's
 * `TimeSensitive` times (kpl.md §5): deadline = arrival + recordMaxBufferedTimeMs, expiration =
 * arrival + recordTtlMs.
 *
 * Departures from the KPL: a bad record becomes a failed `RecordResult` (errorCode
 * `ValidationError`) instead of an exception, and a stream whose map failed for good (no such
 * stream, access denied: aiokpl.md §9 B3) fails its records at once instead of letting them expire.
 */
import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { checkOptionsObject, resolveConfig, resolveScheduler, ValidationError, type ProducerConfig } from '../config';
import type { Attempt, BufferedRecord, RecordResult, UserRecord } from '../records';
import type { ShardMap } from '../shards/shard-map';
import { hashKeyOfPartitionKey, type HashKey } from '../codec/hash';
import { burstClock } from './internal/clock';
import { isWellFormed, MAX_PARTITION_KEY_LENGTH, prepareRecord, utf8Bytes, type PreparedRecord } from './internal/prepare-record';

/** What shardPredict reads of a shard map: the fast lookup and the terminal failure. */
export type ShardMapLike = Pick<ShardMap, 'predictKey' | 'failure'>;

/** Options of {@link shardPredict}. */
export interface ShardPredictOptions extends Partial<Pick<ProducerConfig, 'recordMaxBufferedTimeMs' | 'recordTtlMs' | 'maxUserRecordSize'>> {
  /** The map of every stream, or a function giving the map of a stream (called once per record: keep it a lookup). */
  shardMap: ShardMapLike | ((streamName: string) => ShardMapLike);
  /** The stream of records that name none. */
  streamName?: string;
  /** Where time comes from; tests pass their `TestScheduler`. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
}

/** The error code of a record refused by validation. */
export const VALIDATION_ERROR_CODE = 'ValidationError';

/**
 * Turns user records into `BufferedRecord`s with a predicted shard, or into failed `RecordResult`s.
 *
 * ```text
 * source:  -a-b-c-|
 * result:  -A-B-C-|      recordMaxBufferedTimeMs 100, recordTtlMs 30000
 *                        A = { record: a, predictedShard: map.predictKey(md5(a.partitionKey)),
 *                              arrival: 1, deadline: 101, expiration: 30001, attempts: [],
 *                              dataBytes: a.data's bytes, token: undefined }
 *                        B = a failed RecordResult if b is invalid (the stream goes on)
 * ```
 *
 * - Completion and error pass through; nothing is buffered.
 * - Before the map's first load `predictedShard` is `undefined` (later stages send such records
 *   unaggregated). A map with a terminal `failure` fails the record with that code and message.
 * - Unsubscribe: unsubscribes the source; there are no timers.
 * - `arrival` is one clock reading per burst (at most 32 records of one task, `internal/clock.ts`):
 *   on a real clock a stamp may be early by the time those records took, never late, so a deadline
 *   can only come sooner. Virtual time is read for every record.
 *
 * @example records$.pipe(shardPredict({ shardMap, streamName: 'orders' }))
 *
 * @param options - the map (or one per stream), the default stream, the timing fields and the scheduler.
 * @returns an operator emitting one `BufferedRecord` or one failed `RecordResult` per user record.
 * @throws ValidationError at creation for a bad option.
 */
export function shardPredict(options: ShardPredictOptions): OperatorFunction<UserRecord, BufferedRecord | RecordResult> {
  const predict = recordPredictor(options);
  const scheduler = resolveScheduler(options.scheduler);
  return (source) =>
    new Observable<BufferedRecord | RecordResult>((subscriber) => {
      // Arrival stamps: one clock read per burst of records, not per record (internal/clock.ts).
      const clock = burstClock(scheduler);
      const subscription = source.subscribe({
        // `guard` written out: its rest arguments allocate per call.
        next: (record: UserRecord) => {
          try {
            subscriber.next(predict(record, undefined, clock()));
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => subscription.unsubscribe();
    });
}

/**
 * What {@link shardPredict} does to one record, for a caller that feeds records itself: the
 * producer's pipeline, which puts each record with a `token` the carrier keeps (`BufferedRecord.token`).
 * @internal
 *
 * @param options - as {@link shardPredict}'s (checked here, throwing as shardPredict does).
 * @returns a function from a record, its token and its arrival time to its carrier or failed result;
 *   it throws only on a bug (a ValidationError becomes a failed result).
 */
export function recordPredictor(options: ShardPredictOptions): (record: UserRecord, token: unknown, now: number) => BufferedRecord | RecordResult {
  checkOptionsObject(options);
  const { recordMaxBufferedTimeMs, recordTtlMs, maxUserRecordSize } = resolveConfig(options);
  const { shardMap, streamName } = options;
  const isMap = typeof shardMap === 'object' && shardMap !== null && typeof shardMap.predictKey === 'function';
  if (!isMap && typeof shardMap !== 'function') {
    throw new ValidationError('shardMap', shardMap, 'a ShardMap, or a function from a stream name to one');
  }
  if (streamName !== undefined && (typeof streamName !== 'string' || streamName.length === 0)) {
    throw new ValidationError('streamName', streamName, 'a non-empty string');
  }
  const mapOf = isMap ? () => shardMap : (shardMap as (name: string) => ShardMapLike);
  const prepareOptions = { defaultStreamName: streamName, maxUserRecordSize };
  const defaultStreamValid = typeof streamName === 'string' && streamName.trim().length > 0;

  // One literal shape for every carrier (dataBytes and token always present: one hidden class).
  const buffered = (
    record: UserRecord,
    stream: string,
    data: Uint8Array,
    hashKey: HashKey,
    explicitHashKey: string | undefined,
    map: ShardMapLike,
    now: number,
    token: unknown,
  ): BufferedRecord => ({
    record,
    streamName: stream,
    data,
    hashKey,
    explicitHashKey,
    predictedShard: map.predictKey(hashKey),
    arrival: now,
    deadline: Math.min(now + recordMaxBufferedTimeMs, Number.MAX_SAFE_INTEGER),
    expiration: Math.min(now + recordTtlMs, Number.MAX_SAFE_INTEGER),
    attempts: NO_ATTEMPTS,
    dataBytes: data.length,
    token,
  });

  // The hot path: the common record — bytes, a short key, no explicit hash key, no stream of its
  // own — checked inline without prepareRecord's intermediate object; anything else goes through prepareRecord.
  return (record, token, now) => {
    if (defaultStreamValid && isMap && typeof record === 'object' && record !== null && isPlainFast(record, maxUserRecordSize)) {
      const { partitionKey, data } = record as { partitionKey: string; data: Uint8Array | string };
      const map = shardMap as ShardMapLike;
      const failure = map.failure;
      if (failure !== undefined) return failed(record, [], now, failure.errorCode, failure.errorMessage);
      const bytes = typeof data === 'string' ? utf8Bytes(data) : data;
      return buffered(record, streamName as string, bytes, hashKeyOfPartitionKey(partitionKey), undefined, map, now, token);
    }
    let prepared: PreparedRecord;
    try {
      prepared = prepareRecord(record, prepareOptions);
    } catch (err) {
      // prepareRecord throws only ValidationErrors (a throwing getter included); anything else is a bug.
      if (!(err instanceof ValidationError)) throw err;
      return failed(record, [], now, VALIDATION_ERROR_CODE, err.message);
    }
    const map = mapOf(prepared.streamName);
    const failure = map.failure;
    if (failure !== undefined) return failed(record, [], now, failure.errorCode, failure.errorMessage);
    return buffered(record, prepared.streamName, prepared.data, prepared.hashKey, prepared.explicitHashKey, map, now, token);
  };
}

/**
 * The common record, checked without prepareRecord's intermediate objects: bytes within the limit,
 * or a well-formed string surely within it (at most 3 UTF-8 bytes per UTF-16 unit; a longer string
 * is measured exactly by prepareRecord), a well-formed key of 1–256 units, no explicit hash key, no
 * stream of its own. A throwing getter makes it not common: prepareRecord then refuses it as a
 * ValidationError.
 */
function isPlainFast(record: object, maxUserRecordSize: number): boolean {
  try {
    const r = record as Partial<UserRecord>;
    const { partitionKey, data } = r;
    return (
      r.explicitHashKey === undefined &&
      r.streamName === undefined &&
      (data instanceof Uint8Array
        ? data.length <= maxUserRecordSize
        : typeof data === 'string' && data.length * 3 <= maxUserRecordSize && isWellFormed(data)) &&
      typeof partitionKey === 'string' &&
      partitionKey.length >= 1 &&
      partitionKey.length <= MAX_PARTITION_KEY_LENGTH &&
      isWellFormed(partitionKey) &&
      !Array.isArray(record)
    );
  } catch {
    return false;
  }
}

/** Every new record's (empty) attempts: shared and frozen, since a retry makes a new array. */
const NO_ATTEMPTS: readonly Attempt[] = Object.freeze([]);

/**
 * Predicts a retried record again against its (possibly refreshed) map, keeping its arrival,
 * deadline, expiration and attempts (kpl.md §8: retries re-enter before prediction). A map with a
 * terminal failure fails it, with its attempts plus one for this failure. Internal: used by the
 * producer's retry loop.
 *
 * @param record - the record to retry.
 * @param shardMap - its stream's map.
 * @param now - the current scheduler time (for the failure attempt). Default `asyncScheduler.now()`.
 * @returns the same record when the prediction is unchanged, a copy with the new prediction, or a failed result.
 */
export function predictAgain(record: BufferedRecord, shardMap: ShardMapLike, now: number = asyncScheduler.now()): BufferedRecord | RecordResult {
  const failure = shardMap.failure;
  if (failure !== undefined) return failed(record.record, record.attempts, now, failure.errorCode, failure.errorMessage, record.arrival);
  const predictedShard = shardMap.predictKey(record.hashKey);
  return predictedShard === record.predictedShard ? record : { ...record, predictedShard };
}

function failed(
  record: UserRecord,
  attempts: readonly Attempt[],
  now: number,
  errorCode: string,
  errorMessage: string,
  arrival = now,
): RecordResult {
  const previousEnd = attempts.length > 0 ? attempts[attempts.length - 1].endedAt : arrival;
  const attempt: Attempt = {
    startedAt: now,
    endedAt: now,
    delayMs: Math.max(0, now - previousEnd),
    durationMs: 0,
    success: false,
    errorCode,
    errorMessage,
  };
  return { record, success: false, errorCode, errorMessage, attempts: [...attempts, attempt] };
}
