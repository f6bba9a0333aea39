/**
 * Where the producer's KPL metrics are emitted (kpl.md §9 "Emitted with (code)", kpl.md §8 "Metrics"
 * column): from what one PutRecords call came to, and from each terminal result. Nothing here runs
 * at `metricsLevel: 'none'`: the pipeline does not even install the taps.
 *
 * As the KPL (retrier.cc `emit_metrics`):
 * - per PutRecords request: `RequestTime`, `KinesisRecordsPerPutRecordsRequest`,
 *   `UserRecordsPerPutRecordsRequest` (stream), whatever the request came to;
 * - a whole request that failed: `ErrorsByCode{code}` = 1 and `AllErrors` = 1 **once for the
 *   request**, at stream level (no shard);
 * - per Kinesis record answered: success → `KinesisRecordsPut` = 1, `KinesisRecordsDataPut`,
 *   `UserRecordsPerKinesisRecord`, `AllErrors` = 0; error → `KinesisRecordsPut` = 0,
 *   `ErrorsByCode{code}` = 1, `AllErrors` = 1; all on the predicted shard. A Kinesis record answered
 *   from the wrong shard *was* written, so it counts as put (its user records are retried);
 * - per finished user record: `UserRecordsPut` 1/0, `UserRecordsDataPut` (success),
 *   `UserRecordExpired` (last attempt `Expired`), `RetriesPerRecord` = attempts − 1 (success or
 *   failure), one `BufferingTime` sample per attempt.
 *
 * Departures from the KPL:
 * - `UserRecordsPut`, `RetriesPerRecord`, `UserRecordExpired` and `BufferingTime` of a failed record
 *   use the last shard an attempt of it landed on, else no shard (stream level only): the KPL uses
 *   the predicted shard, which a `RecordResult` does not carry.
 * - An answer whose entry count differs from the request (kpl.md §8 "Record Count Mismatch", no
 *   metric in the KPL) counts each Kinesis record of the request as an error with code
 *   `Record Count Mismatch`, so such failures show in `AllErrors`.
 * - A limiter expiry (`SendOutcome` kind `expired`) sent no request: it emits nothing here; its user
 *   records count as `UserRecordExpired` when they finish.
 */
import type { MetricSeries, MetricsRecorder } from '../metrics/metrics-recorder';
import { RETRIER_ERROR_CODES } from '../operators/internal/retry-table';
import type { RecordResult, SendOutcome } from '../records';

/** Metrics of one PutRecords outcome (or limiter expiry). */
export function recordOutcomeMetrics(metrics: MetricsRecorder, outcome: SendOutcome): void {
  if (outcome.kind === 'expired') return; // counted per user record as UserRecordExpired
  const { batch } = outcome;
  const stream = batch.streamName;
  const records = batch.records;
  const t = metrics.second(); // one clock read for every sample of this outcome
  metrics.putAt(t, 'RequestTime', outcome.endedAt - outcome.startedAt, stream);
  metrics.putAt(t, 'KinesisRecordsPerPutRecordsRequest', records.length, stream);
  if (metrics.wants('UserRecordsPerPutRecordsRequest')) {
    let userRecords = 0;
    for (let i = 0; i < records.length; i++) userRecords += records[i].records.length;
    metrics.putAt(t, 'UserRecordsPerPutRecordsRequest', userRecords, stream);
  }
  if (outcome.kind === 'unanswered') {
    // kpl.md §8, whole request failed: one error for the request, at stream level.
    metrics.putAt(t, 'ErrorsByCode', 1, stream, undefined, outcome.errorCode || RETRIER_ERROR_CODES.unknown);
    metrics.putAt(t, 'AllErrors', 1, stream);
    return;
  }
  const answers = outcome.records;
  const mismatch = answers.length !== records.length;
  for (let i = 0; i < records.length; i++) {
    const kr = records[i];
    const shard = kr.predictedShard;
    const answer = mismatch ? undefined : answers[i];
    if (answer !== undefined && answer.SequenceNumber) {
      metrics.putAt(t, 'KinesisRecordsPut', 1, stream, shard);
      metrics.putAt(t, 'KinesisRecordsDataPut', kr.size, stream, shard);
      metrics.putAt(t, 'UserRecordsPerKinesisRecord', kr.records.length, stream, shard);
      metrics.putAt(t, 'AllErrors', 0, stream, shard);
    } else {
      metrics.putAt(t, 'KinesisRecordsPut', 0, stream, shard);
      metrics.putAt(t, 'ErrorsByCode', 1, stream, shard, mismatch ? RETRIER_ERROR_CODES.recordCountMismatch : answer?.ErrorCode || RETRIER_ERROR_CODES.unknown);
      metrics.putAt(t, 'AllErrors', 1, stream, shard);
    }
  }
}

/** The per-result series of one (stream, shard), found once per recorder (kpl.md §9 `emit_metrics(ur)`). */
interface ResultSeries {
  readonly put: MetricSeries | undefined;
  readonly dataPut: MetricSeries | undefined;
  readonly expired: MetricSeries | undefined;
  readonly retries: MetricSeries | undefined;
  readonly buffering: MetricSeries | undefined;
}

// Recorder → stream → shard ('' for none) → handles: a result costs two Map lookups, not one per metric.
const resultSeriesCache = new WeakMap<MetricsRecorder, Map<string, Map<string, ResultSeries>>>();

function resultSeries(metrics: MetricsRecorder, streamName: string, shard: string | undefined): ResultSeries {
  let byStream = resultSeriesCache.get(metrics);
  if (byStream === undefined) resultSeriesCache.set(metrics, (byStream = new Map()));
  let byShard = byStream.get(streamName);
  if (byShard === undefined) byStream.set(streamName, (byShard = new Map()));
  const key = shard ?? '';
  let found = byShard.get(key);
  if (found === undefined) {
    found = {
      put: metrics.series('UserRecordsPut', streamName, shard),
      dataPut: metrics.series('UserRecordsDataPut', streamName, shard),
      expired: metrics.series('UserRecordExpired', streamName, shard),
      retries: metrics.series('RetriesPerRecord', streamName, shard),
      buffering: metrics.series('BufferingTime', streamName, shard),
    };
    byShard.set(key, found);
  }
  return found;
}

/** Metrics of one terminal user record result (the KPL's `finish_user_record` → `emit_metrics(ur)`). */
export function recordResultMetrics(metrics: MetricsRecorder, streamName: string, result: RecordResult, dataBytes: number): void {
  const attempts = result.attempts;
  const last = attempts[attempts.length - 1];
  let shard = result.shardId;
  for (let i = attempts.length - 1; shard === undefined && i >= 0; i--) shard = attempts[i].shardId;
  const series = resultSeries(metrics, streamName, shard);
  const t = metrics.second(); // one clock read for every sample of this result
  series.put?.putAt(t, result.success ? 1 : 0);
  if (result.success) series.dataPut?.putAt(t, dataBytes);
  if (last?.errorCode === RETRIER_ERROR_CODES.expired) series.expired?.putAt(t, 1);
  series.retries?.putAt(t, Math.max(0, attempts.length - 1));
  const buffering = series.buffering;
  if (buffering !== undefined) for (let i = 0; i < attempts.length; i++) buffering.putAt(t, attempts[i].delayMs);
}
