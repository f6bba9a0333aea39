/**
 * lib/producer/pipeline-metrics.ts on hand-built outcomes and results: the edge rows of kpl.md §8
 * that the stub does not produce (count mismatch, an error without a code, limiter expiry), and
 * which shard a failed record is counted on. The producer-level emission is in
 * spec/integration/metrics-emission.spec.ts.
 */
import type { KinesisRecord, RecordResult, SendOutcome, BufferedRecord } from '../../lib/records';
import { createMetricsRecorder, type MetricsRecorder } from '../../lib/metrics/metrics-recorder';
import { recordOutcomeMetrics, recordResultMetrics } from '../../lib/producer/pipeline-metrics';
import { manualClock } from '../helpers/metrics-clock';

function kinesisRecord(shard: string | undefined, users: number, size = 100): KinesisRecord {
  return {
    streamName: 's',
    predictedShard: shard,
    records: Array.from({ length: users }, () => ({}) as BufferedRecord),
    partitionKey: 'a',
    explicitHashKey: '0',
    data: new Uint8Array(size),
    size,
    deadline: 0,
    expiration: 0,
  };
}

type OutcomeKind =
  | { kind: 'answered'; records: { SequenceNumber?: string; ShardId?: string; ErrorCode?: string }[] }
  | { kind: 'unanswered'; errorCode: string; errorMessage: string }
  | { kind: 'expired' };

function outcome(records: KinesisRecord[], rest: OutcomeKind): SendOutcome {
  return { batch: { streamName: 's', records, size: 0 }, startedAt: 1000, endedAt: 1085, ...rest };
}

function reading(m: MetricsRecorder, name: string, dims: Record<string, string> = {}) {
  return m.query(name).find((r) => JSON.stringify(r.dimensions) === JSON.stringify(dims));
}

describe('recordOutcomeMetrics / recordResultMetrics (kpl.md §8–9)', () => {
  let metrics: MetricsRecorder;
  beforeEach(() => {
    metrics = createMetricsRecorder({ level: 'detailed', granularity: 'shard', now: manualClock(5000).now });
  });

  it('times every request and counts its Kinesis and user records, whatever it came to', () => {
    recordOutcomeMetrics(metrics, outcome([kinesisRecord('sh-0', 3), kinesisRecord('sh-1', 2)], { kind: 'unanswered', errorCode: 'TimeoutError', errorMessage: '' }));
    expect(reading(metrics, 'RequestTime', { StreamName: 's' })).toMatchObject({ count: 1, sum: 85 });
    expect(reading(metrics, 'KinesisRecordsPerPutRecordsRequest')).toMatchObject({ count: 1, sum: 2 });
    expect(reading(metrics, 'UserRecordsPerPutRecordsRequest')).toMatchObject({ count: 1, sum: 5 });
  });

  it('counts a whole failed request once, at stream level, with Unknown for a missing code', () => {
    recordOutcomeMetrics(metrics, outcome([kinesisRecord('sh-0', 3), kinesisRecord('sh-1', 2)], { kind: 'unanswered', errorCode: '', errorMessage: '' }));
    expect(reading(metrics, 'ErrorsByCode', { ErrorCode: 'Unknown', StreamName: 's' })).toMatchObject({ count: 1, sum: 1 });
    expect(metrics.query('ErrorsByCode').some((r) => r.dimensions.ShardId !== undefined)).toBe(false);
    expect(reading(metrics, 'AllErrors')).toMatchObject({ count: 1, sum: 1 });
    expect(metrics.query('KinesisRecordsPut')).toEqual([]);
  });

  it('counts each Kinesis record of a count-mismatched answer as a Record Count Mismatch error on its predicted shard', () => {
    recordOutcomeMetrics(metrics, outcome([kinesisRecord('sh-0', 1), kinesisRecord('sh-1', 1)], { kind: 'answered', records: [{ SequenceNumber: '1', ShardId: 'sh-0' }] }));
    expect(reading(metrics, 'ErrorsByCode', { ErrorCode: 'Record Count Mismatch' })).toMatchObject({ count: 2 });
    expect(reading(metrics, 'KinesisRecordsPut')).toMatchObject({ count: 2, sum: 0 });
    expect(reading(metrics, 'AllErrors', { StreamName: 's', ShardId: 'sh-1' })).toMatchObject({ count: 1, sum: 1 });
  });

  it('emits nothing for a limiter expiry (its records count as UserRecordExpired when they finish)', () => {
    recordOutcomeMetrics(metrics, outcome([kinesisRecord('sh-0', 4)], { kind: 'expired' }));
    expect(metrics.query()).toEqual([]);
  });

  it('counts a failed record on the last shard an attempt landed on, else at stream level only', () => {
    const attempt = (over: Partial<RecordResult['attempts'][number]>) => ({ startedAt: 0, endedAt: 0, delayMs: 5, durationMs: 0, success: false, ...over });
    const landedThenExpired: RecordResult = {
      record: { partitionKey: 'k', data: 'abc' },
      success: false,
      errorCode: 'Expired',
      attempts: [attempt({ errorCode: 'Wrong Shard', shardId: 'sh-2' }), attempt({ errorCode: 'Expired' })],
    };
    const neverLanded: RecordResult = {
      record: { partitionKey: 'k', data: 'abc' },
      success: false,
      errorCode: 'InternalFailure',
      attempts: [attempt({ errorCode: 'InternalFailure' })],
    };
    recordResultMetrics(metrics, 's', landedThenExpired, 3);
    recordResultMetrics(metrics, 's', neverLanded, 3);
    expect(reading(metrics, 'UserRecordsPut', { StreamName: 's', ShardId: 'sh-2' })).toMatchObject({ count: 1, sum: 0 });
    expect(reading(metrics, 'UserRecordsPut', { StreamName: 's' })).toMatchObject({ count: 2, sum: 0 });
    expect(reading(metrics, 'UserRecordExpired', { StreamName: 's', ShardId: 'sh-2' })).toMatchObject({ count: 1 });
    expect(reading(metrics, 'RetriesPerRecord')).toMatchObject({ count: 2, sum: 1 });
    expect(reading(metrics, 'BufferingTime')).toMatchObject({ count: 3, sum: 15 });
    expect(metrics.query('UserRecordsDataPut')).toEqual([]);
  });

  it('keeps only summary metrics at summary level and drops shards at stream granularity', () => {
    const summary = createMetricsRecorder({ level: 'summary', granularity: 'stream', now: manualClock(0).now });
    recordOutcomeMetrics(summary, outcome([kinesisRecord('sh-0', 2)], { kind: 'answered', records: [{ SequenceNumber: '1', ShardId: 'sh-0' }] }));
    expect(summary.query().map((r) => r.name).sort()).toEqual(['AllErrors', 'AllErrors', 'KinesisRecordsPut', 'KinesisRecordsPut']);
    expect(summary.query().every((r) => r.dimensions.ShardId === undefined)).toBe(true);
  });
});
