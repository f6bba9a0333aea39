/**
 * Where the KPL emits each metric and with which dimensions (kpl.md §9 "Emitted with" column,
 * kpl.md §8 "Metrics" column), as functions the producer calls at the matching pipeline points:
 * a record accepted ({@link emitUserRecordReceived}), a PutRecords outcome
 * ({@link emitSendOutcome}), a terminal record result ({@link emitRecordResult}), and the 200 ms
 * `UserRecordsPending` sampler ({@link startPendingSampler}).
 *
 * Departures: the per-Kinesis-record and per-request counts (`UserRecordsPerKinesisRecord`,
 * `KinesisRecordsPerPutRecordsRequest`, `UserRecordsPerPutRecordsRequest`) are emitted when the
 * request's outcome is known rather than when the record/request is built, so records that
 * expire in the limiter before being sent are not counted there. Every function returns at once
 * when the recorder is disabled.
 */
import { Subscription, asyncScheduler } from 'rxjs';
import type { SchedulerAction, SchedulerLike } from 'rxjs';
import { utf8Length } from '../codec/size';
import type { RecordResult, SendOutcome } from '../records';
import type { MetricsRecorder } from './metrics-recorder';

type Recorder = Pick<MetricsRecorder, 'enabled' | 'put'>;

/** The KPL's error code for a record whose TTL ran out (kpl.md §8). */
const EXPIRED = 'Expired';

/**
 * `UserRecordsReceived` = 1 at stream level, once per record the producer accepts (`Pipeline::put`).
 *
 * ```text
 * emitUserRecordReceived(m, 'orders') → put('UserRecordsReceived', 1, 'orders')
 * ```
 *
 * @example emitUserRecordReceived(metrics, buffered.streamName)
 */
export function emitUserRecordReceived(recorder: Recorder, streamName: string): void {
  if (recorder.enabled) recorder.put('UserRecordsReceived', 1, streamName);
}

/**
 * The Retrier's metrics for one PutRecords outcome (kpl.md §8 table, §9):
 *
 * ```text
 * answered, entry ok     → KinesisRecordsPut 1, KinesisRecordsDataPut size, AllErrors 0    (stream + predicted shard)
 * answered, entry error  → KinesisRecordsPut 0, ErrorsByCode{code} 1, AllErrors 1          (stream + predicted shard)
 * unanswered (whole request failed) → ErrorsByCode{code} 1, AllErrors 1                    (stream only, once)
 * answered or unanswered → RequestTime, KinesisRecordsPerPutRecordsRequest,
 *                          UserRecordsPerPutRecordsRequest (stream); UserRecordsPerKinesisRecord (stream + shard)
 * expired (never sent)   → nothing here (see emitRecordResult)
 * ```
 *
 * A response whose entry count differs from the request's emits no per-record metrics (kpl.md §8
 * "Record Count Mismatch": —).
 *
 * @example outcomes$.pipe(tap((o) => emitSendOutcome(metrics, o)))
 *
 * @param recorder - the producer's recorder.
 * @param outcome - one PutRecords outcome.
 */
export function emitSendOutcome(recorder: Recorder, outcome: SendOutcome): void {
  if (!recorder.enabled || outcome.kind === 'expired') return;
  const { batch } = outcome;
  const stream = batch.streamName;
  let userRecords = 0;
  for (const kr of batch.records) {
    userRecords += kr.records.length;
    recorder.put('UserRecordsPerKinesisRecord', kr.records.length, stream, kr.predictedShard);
  }
  recorder.put('RequestTime', outcome.endedAt - outcome.startedAt, stream);
  recorder.put('KinesisRecordsPerPutRecordsRequest', batch.records.length, stream);
  recorder.put('UserRecordsPerPutRecordsRequest', userRecords, stream);

  if (outcome.kind === 'unanswered') {
    recorder.put('ErrorsByCode', 1, stream, undefined, outcome.errorCode);
    recorder.put('AllErrors', 1, stream);
    return;
  }
  if (outcome.records.length !== batch.records.length) return;
  batch.records.forEach((kr, i) => {
    const entry = outcome.records[i];
    const shard = kr.predictedShard;
    if (entry.SequenceNumber !== undefined && entry.ErrorCode === undefined) {
      recorder.put('KinesisRecordsPut', 1, stream, shard);
      recorder.put('KinesisRecordsDataPut', kr.size, stream, shard);
      recorder.put('AllErrors', 0, stream, shard);
    } else {
      recorder.put('KinesisRecordsPut', 0, stream, shard);
      recorder.put('ErrorsByCode', 1, stream, shard, entry.ErrorCode ?? 'UnknownError');
      recorder.put('AllErrors', 1, stream, shard);
    }
  });
}

/**
 * The per-user-record metrics of `finish_user_record` (kpl.md §9), once per terminal result:
 *
 * ```text
 * UserRecordsPut       1 ok / 0 failed          stream + shard (actual if ok, else the last attempt's)
 * UserRecordsDataPut   data bytes, on success   stream + shard
 * RetriesPerRecord     attempts − 1             stream + shard
 * BufferingTime        each attempt's delayMs   stream + that attempt's shard (one sample per attempt)
 * UserRecordExpired    1 if the last attempt's code is "Expired"
 * ```
 *
 * @example results$.pipe(tap((r) => emitRecordResult(metrics, r, r.record.streamName ?? defaultStream)))
 *
 * @param recorder - the producer's recorder.
 * @param result - the record's terminal result.
 * @param streamName - the stream it went to (the record's own, else the producer's).
 */
export function emitRecordResult(recorder: Recorder, result: RecordResult, streamName: string): void {
  if (!recorder.enabled) return;
  const attempts = result.attempts;
  const last = attempts.length > 0 ? attempts[attempts.length - 1] : undefined;
  const shard = result.shardId ?? last?.shardId;
  recorder.put('UserRecordsPut', result.success ? 1 : 0, streamName, shard);
  if (result.success) {
    const data = result.record.data;
    recorder.put('UserRecordsDataPut', typeof data === 'string' ? utf8Length(data) : data.byteLength, streamName, shard);
  }
  recorder.put('RetriesPerRecord', Math.max(0, attempts.length - 1), streamName, shard);
  for (const attempt of attempts) recorder.put('BufferingTime', attempt.delayMs, streamName, attempt.shardId ?? shard);
  if (!result.success && (result.errorCode ?? last?.errorCode) === EXPIRED) {
    recorder.put('UserRecordExpired', 1, streamName, shard);
  }
}

/** Options of {@link startPendingSampler}. */
export interface PendingSamplerOptions {
  recorder: Recorder;
  /** Outstanding user records per stream, read at each sample. */
  read: () => Iterable<readonly [streamName: string, outstanding: number]>;
  /** Sampling period in ms. Default 200 (the KPL's `report_outstanding`). */
  periodMs?: number;
  /** Where time comes from. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
}

/**
 * Samples `UserRecordsPending` per stream every 200 ms (kpl.md §9 `report_outstanding`).
 *
 * ```text
 * time (ms):  0 ──── 200 ──── 400 ──── 600   unsubscribe
 * samples:           x        y        z
 * ```
 *
 * - Unsubscribe: the timer is cancelled. A disabled recorder starts no timer.
 *
 * @example const sampler = startPendingSampler({ recorder, read: () => outstandingByStream, scheduler });
 *
 * @param options - recorder, reader, period, scheduler.
 * @returns the subscription that stops the sampler.
 */
export function startPendingSampler(options: PendingSamplerOptions): Subscription {
  const { recorder, read, periodMs = 200, scheduler = asyncScheduler } = options;
  if (!recorder.enabled) return new Subscription();
  return scheduler.schedule(function sample(this: SchedulerAction<undefined>) {
    for (const [stream, outstanding] of read()) recorder.put('UserRecordsPending', outstanding, stream);
    this.schedule(undefined, periodMs);
  }, periodMs);
}
