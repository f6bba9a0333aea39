/**
 * Where the producer's KPL metrics are emitted (kpl.md §9 "Emitted with (code)"): from what one
 * PutRecords call came to, and from each terminal result. Nothing here runs at `metricsLevel: 'none'`:
 * the pipeline does not even install the taps.
 *
 * Departures from the KPL: `UserRecordsPut` / `BufferingTime` use the shard the record landed on when
 * it succeeded and the last known shard otherwise (the KPL uses the predicted shard on failure, which
 * a result no longer carries); request-level errors count once per Kinesis record of the request.
 */
import type { MetricsRecorder } from '../metrics/metrics-recorder';
import type { RecordResult, SendOutcome } from '../records';

/** Metrics of one PutRecords outcome (or limiter expiry). */
export function recordOutcomeMetrics(metrics: MetricsRecorder, outcome: SendOutcome): void {
  const { batch } = outcome;
  const stream = batch.streamName;
  if (outcome.kind === 'expired') return; // counted per user record as UserRecordExpired
  metrics.put('RequestTime', outcome.endedAt - outcome.startedAt, stream);
  metrics.put('KinesisRecordsPerPutRecordsRequest', batch.records.length, stream);
  let userRecords = 0;
  for (const kr of batch.records) userRecords += kr.records.length;
  metrics.put('UserRecordsPerPutRecordsRequest', userRecords, stream);
  if (outcome.kind === 'unanswered') {
    for (let i = 0; i < batch.records.length; i++) {
      metrics.put('ErrorsByCode', 1, stream, undefined, outcome.errorCode);
      metrics.put('AllErrors', 1, stream);
    }
    return;
  }
  const answers = outcome.records;
  for (let i = 0; i < batch.records.length; i++) {
    const kr = batch.records[i];
    const shard = kr.predictedShard;
    const answer = answers[i];
    if (answer !== undefined && answer.SequenceNumber !== undefined && answer.ErrorCode === undefined) {
      metrics.put('KinesisRecordsPut', 1, stream, shard);
      metrics.put('KinesisRecordsDataPut', kr.size, stream, shard);
      metrics.put('UserRecordsPerKinesisRecord', kr.records.length, stream, shard);
      metrics.put('AllErrors', 0, stream, shard);
    } else {
      metrics.put('KinesisRecordsPut', 0, stream, shard);
      metrics.put('ErrorsByCode', 1, stream, shard, answer?.ErrorCode ?? 'Record Count Mismatch');
      metrics.put('AllErrors', 1, stream, shard);
    }
  }
}

/** Metrics of one terminal user record result. */
export function recordResultMetrics(metrics: MetricsRecorder, streamName: string, result: RecordResult, dataBytes: number): void {
  const attempts = result.attempts;
  const last = attempts[attempts.length - 1];
  let shard = result.shardId;
  for (let i = attempts.length - 1; shard === undefined && i >= 0; i--) shard = attempts[i].shardId;
  metrics.put('UserRecordsPut', result.success ? 1 : 0, streamName, shard);
  if (result.success) {
    metrics.put('UserRecordsDataPut', dataBytes, streamName, shard);
    metrics.put('RetriesPerRecord', attempts.length - 1, streamName, shard);
  }
  if (last?.errorCode === 'Expired') metrics.put('UserRecordExpired', 1, streamName, shard);
  for (const attempt of attempts) metrics.put('BufferingTime', attempt.delayMs, streamName, shard);
}
