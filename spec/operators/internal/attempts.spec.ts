import { failedAttempt, failedResult, makeAttempt, rejectedResult, successResult, withAttempt } from '../../../lib/operators/internal/attempts';
import { bufferedRecord, SHARD_0 } from '../../helpers/retrier-builders';

describe('makeAttempt', () => {
  it('measures delayMs from the arrival on the first attempt, and durationMs from start to end', () => {
    const record = bufferedRecord({ arrival: 5 });
    expect(makeAttempt(record, { startedAt: 25, endedAt: 40, success: false, errorCode: 'X', errorMessage: 'y' })).toEqual({
      startedAt: 25,
      endedAt: 40,
      delayMs: 20,
      durationMs: 15,
      success: false,
      errorCode: 'X',
      errorMessage: 'y',
    });
  });

  it('measures delayMs from the previous attempt end on a later attempt', () => {
    const first = failedAttempt(bufferedRecord(), 10, 30, 'InternalFailure', '');
    const record = bufferedRecord({ attempts: [first] });
    expect(makeAttempt(record, { startedAt: 75, endedAt: 80, success: true, shardId: SHARD_0, sequenceNumber: '9' })).toEqual({
      startedAt: 75,
      endedAt: 80,
      delayMs: 45,
      durationMs: 5,
      success: true,
      shardId: SHARD_0,
      sequenceNumber: '9',
    });
  });

  it('leaves absent optional fields absent', () => {
    expect(Object.keys(makeAttempt(bufferedRecord(), { startedAt: 1, endedAt: 2, success: true })).sort()).toEqual(
      ['delayMs', 'durationMs', 'endedAt', 'startedAt', 'success'].sort(),
    );
  });
});

describe('withAttempt', () => {
  it('returns a new carrier with the attempt appended and leaves the old one unchanged', () => {
    const record = bufferedRecord();
    const attempt = failedAttempt(record, 10, 30, 'InternalFailure', 'x');
    const next = withAttempt(record, attempt);
    expect(next).not.toBe(record);
    expect(next.attempts).toEqual([attempt]);
    expect(record.attempts).toEqual([]);
    expect(next.record).toBe(record.record);
  });
});

describe('successResult', () => {
  it('carries every attempt, the shard id and the sequence number of the final one', () => {
    const earlier = failedAttempt(bufferedRecord(), 10, 30, 'InternalFailure', 'x');
    const record = bufferedRecord({ attempts: [earlier] });
    const attempt = makeAttempt(record, { startedAt: 60, endedAt: 70, success: true, shardId: SHARD_0, sequenceNumber: '123' });
    expect(successResult(record, attempt)).toEqual({
      record: record.record,
      success: true,
      shardId: SHARD_0,
      sequenceNumber: '123',
      attempts: [earlier, attempt],
    });
  });
});

describe('failedResult', () => {
  it('repeats the final attempt code and message', () => {
    const record = bufferedRecord();
    const attempt = failedAttempt(record, 10, 30, 'ResourceNotFoundException', 'Stream orders not found');
    expect(failedResult(record, attempt)).toEqual({
      record: record.record,
      success: false,
      errorCode: 'ResourceNotFoundException',
      errorMessage: 'Stream orders not found',
      attempts: [attempt],
    });
  });

  it('appends several attempts in order and repeats the last', () => {
    const record = bufferedRecord();
    const a = failedAttempt(record, 10, 30, 'InternalFailure', 'x');
    const b = failedAttempt(withAttempt(record, a), 35, 35, 'Expired', 'Record has reached expiration');
    const result = failedResult(record, [a, b]);
    expect(result.attempts).toEqual([a, b]);
    expect(b.delayMs).toBe(5);
    expect([result.errorCode, result.errorMessage]).toEqual(['Expired', 'Record has reached expiration']);
  });

  it('says Unknown and the empty string when the final attempt has no code', () => {
    const record = bufferedRecord();
    const result = failedResult(record, makeAttempt(record, { startedAt: 1, endedAt: 2, success: false }));
    expect([result.errorCode, result.errorMessage]).toEqual(['Unknown', '']);
  });
});

describe('rejectedResult', () => {
  it('fails a user record with one zero-length attempt at now', () => {
    const record = { partitionKey: '', data: 'x' };
    expect(rejectedResult(record, 'ValidationError', 'partitionKey is ""', 42)).toEqual({
      record,
      success: false,
      errorCode: 'ValidationError',
      errorMessage: 'partitionKey is ""',
      attempts: [{ startedAt: 42, endedAt: 42, delayMs: 0, durationMs: 0, success: false, errorCode: 'ValidationError', errorMessage: 'partitionKey is ""' }],
    });
  });
});
