import { TestScheduler } from 'rxjs/testing';
import { createMetricsRecorder } from '../../lib/metrics/metrics-recorder';
import type { MetricsRecorder } from '../../lib/metrics/metrics-recorder';
import {
  emitRecordResult,
  emitSendOutcome,
  emitUserRecordReceived,
  startPendingSampler,
} from '../../lib/metrics/kpl-emissions';
import { attempt, batchOf, buffered, kinesisRecordOf, result, SHARD_0, SHARD_1, STREAM } from '../helpers/metrics-records';

/** Every put as [name, value, stream?, shard?, errorCode?]. */
function spyRecorder(enabled = true) {
  const puts: unknown[][] = [];
  const recorder: Pick<MetricsRecorder, 'enabled' | 'put'> = {
    enabled,
    put: (...args) => void puts.push(args.filter((_, i) => i < 2 || args.slice(i).some((a) => a !== undefined))),
  };
  return { recorder, puts };
}

describe('KPL emission points (kpl.md §8, §9)', () => {
  it('counts a received record at stream level', () => {
    const { recorder, puts } = spyRecorder();
    emitUserRecordReceived(recorder, STREAM);
    expect(puts).toEqual([['UserRecordsReceived', 1, STREAM]]);
  });

  it('emits per-record success and failure metrics of an answered request at the predicted shard', () => {
    const { recorder, puts } = spyRecorder();
    const ok = kinesisRecordOf([buffered('a'), buffered('b')], 120, SHARD_0);
    const bad = kinesisRecordOf([buffered('c', SHARD_1)], 40, SHARD_1);
    emitSendOutcome(recorder, {
      kind: 'answered',
      batch: batchOf([ok, bad]),
      startedAt: 10,
      endedAt: 55,
      records: [{ SequenceNumber: '1', ShardId: SHARD_0 }, { ErrorCode: 'ProvisionedThroughputExceededException' }],
    });
    expect(puts).toEqual([
      ['UserRecordsPerKinesisRecord', 2, STREAM, SHARD_0],
      ['UserRecordsPerKinesisRecord', 1, STREAM, SHARD_1],
      ['RequestTime', 45, STREAM],
      ['KinesisRecordsPerPutRecordsRequest', 2, STREAM],
      ['UserRecordsPerPutRecordsRequest', 3, STREAM],
      ['KinesisRecordsPut', 1, STREAM, SHARD_0],
      ['KinesisRecordsDataPut', 120, STREAM, SHARD_0],
      ['AllErrors', 0, STREAM, SHARD_0],
      ['KinesisRecordsPut', 0, STREAM, SHARD_1],
      ['ErrorsByCode', 1, STREAM, SHARD_1, 'ProvisionedThroughputExceededException'],
      ['AllErrors', 1, STREAM, SHARD_1],
    ]);
  });

  it('emits one stream-level error for a request that failed as a whole', () => {
    const { recorder, puts } = spyRecorder();
    const kr = kinesisRecordOf([buffered('a')], 10);
    emitSendOutcome(recorder, { kind: 'unanswered', batch: batchOf([kr, kr]), startedAt: 0, endedAt: 6000, errorCode: 'TimeoutError', errorMessage: 'x' });
    expect(puts.slice(5)).toEqual([
      ['ErrorsByCode', 1, STREAM, undefined, 'TimeoutError'],
      ['AllErrors', 1, STREAM],
    ]);
    expect(puts[2]).toEqual(['RequestTime', 6000, STREAM]);
  });

  it('emits no per-record metrics when the response count differs, and nothing for the expiry path', () => {
    const { recorder, puts } = spyRecorder();
    const batch = batchOf([kinesisRecordOf([buffered('a')], 10)]);
    emitSendOutcome(recorder, { kind: 'answered', batch, startedAt: 0, endedAt: 1, records: [] });
    expect(puts.map((p) => p[0])).toEqual(['UserRecordsPerKinesisRecord', 'RequestTime', 'KinesisRecordsPerPutRecordsRequest', 'UserRecordsPerPutRecordsRequest']);
    puts.length = 0;
    emitSendOutcome(recorder, { kind: 'expired', batch, startedAt: 0, endedAt: 1 });
    expect(puts).toEqual([]);
  });

  it('emits UserRecordsPut, bytes, retries and one BufferingTime per attempt for a success', () => {
    const { recorder, puts } = spyRecorder();
    emitRecordResult(
      recorder,
      result({
        attempts: [
          attempt({ success: false, errorCode: 'Wrong Shard', shardId: SHARD_1, delayMs: 100 }),
          attempt({ delayMs: 50, shardId: SHARD_0 }),
        ],
      }),
      STREAM,
    );
    expect(puts).toEqual([
      ['UserRecordsPut', 1, STREAM, SHARD_0],
      ['UserRecordsDataPut', 6, STREAM, SHARD_0],
      ['RetriesPerRecord', 1, STREAM, SHARD_0],
      ['BufferingTime', 100, STREAM, SHARD_1],
      ['BufferingTime', 50, STREAM, SHARD_0],
    ]);
  });

  it('emits UserRecordsPut 0 and UserRecordExpired for an expired record', () => {
    const { recorder, puts } = spyRecorder();
    emitRecordResult(
      recorder,
      result({
        success: false,
        shardId: undefined,
        errorCode: 'Expired',
        attempts: [attempt({ success: false, errorCode: 'Expired', shardId: SHARD_1, delayMs: 30000 })],
      }),
      STREAM,
    );
    expect(puts).toEqual([
      ['UserRecordsPut', 0, STREAM, SHARD_1],
      ['RetriesPerRecord', 0, STREAM, SHARD_1],
      ['BufferingTime', 30000, STREAM, SHARD_1],
      ['UserRecordExpired', 1, STREAM, SHARD_1],
    ]);
  });

  it('does nothing on a disabled recorder', () => {
    const { recorder, puts } = spyRecorder(false);
    emitUserRecordReceived(recorder, STREAM);
    emitRecordResult(recorder, result(), STREAM);
    emitSendOutcome(recorder, { kind: 'unanswered', batch: batchOf([kinesisRecordOf([buffered('a')], 1)]), startedAt: 0, endedAt: 1, errorCode: 'E', errorMessage: '' });
    expect(puts).toEqual([]);
  });

  it('gives a success rate as the mean of UserRecordsPut through a real recorder', () => {
    const recorder = createMetricsRecorder({ level: 'summary', granularity: 'stream', now: () => 0 });
    emitRecordResult(recorder, result(), STREAM);
    emitRecordResult(recorder, result({ success: false, errorCode: 'Expired', attempts: [attempt({ success: false, errorCode: 'Expired' })] }), STREAM);
    const [, byStream] = recorder.query('UserRecordsPut');
    expect(byStream).toMatchObject({ dimensions: { StreamName: STREAM }, count: 2, mean: 0.5 });
    expect(recorder.query('RetriesPerRecord')).toEqual([]); // Detailed: dropped at summary
  });
});

describe('startPendingSampler', () => {
  it('samples UserRecordsPending per stream every 200 ms until unsubscribed', () => {
    const scheduler = new TestScheduler((a, e) => expect(a).toEqual(e));
    const { recorder, puts } = spyRecorder();
    let outstanding = 0;
    scheduler.run(() => {
      const sampler = startPendingSampler({ recorder, scheduler, read: () => [[STREAM, (outstanding += 10)]] });
      scheduler.schedule(() => sampler.unsubscribe(), 700);
    });
    expect(puts).toEqual([
      ['UserRecordsPending', 10, STREAM],
      ['UserRecordsPending', 20, STREAM],
      ['UserRecordsPending', 30, STREAM],
    ]);
  });

  it('starts no timer for a disabled recorder', () => {
    jest.useFakeTimers();
    try {
      const sampler = startPendingSampler({ recorder: spyRecorder(false).recorder, read: () => [] });
      expect(jest.getTimerCount()).toBe(0);
      sampler.unsubscribe();
    } finally {
      jest.useRealTimers();
    }
  });
});
