/**
 * Issue 10: each KPL metric is emitted at the right place with the right dimensions (kpl.md §9
 * "Emitted with (code)", kpl.md §8 "Metrics" column), checked against what the fault stub saw:
 * successes, per-record throttles, request-level 500s, expiries and wrong-shard answers.
 */
import { startFaultyKinesis, stubShardId, type FaultyKinesis } from '../../lib/testing/faulty-kinesis';
import { produceMetered, series, shardSeries, sumOf } from '../helpers/metrics-pipeline';
import { numberedRecords } from '../helpers/producer-faults';

const S = { StreamName: 's' };
const PTEE = 'ProvisionedThroughputExceededException';
const dataBytes = (text: string) => Buffer.byteLength(text, 'utf8');

describe('metric emission through the producer (fault stub)', () => {
  let stub: FaultyKinesis;
  beforeEach(async () => {
    stub = await startFaultyKinesis({ streams: { s: 4 } });
  });
  afterEach(async () => {
    await stub.close();
  });

  it('on success: per-record, per-Kinesis-record and per-request metrics with stream and shard dimensions', async () => {
    // answered 250 ms late, so the 200 ms UserRecordsPending sampler runs while records are outstanding
    stub.setBehaviour({ latencyMs: 250, operations: ['PutRecords'] });
    const records = numberedRecords(400, 100, 'ok');
    const run = await produceMetered(stub, records);
    const { results } = run;
    const stats = stub.stats();
    const requests = stub.putRecordsRequests;
    expect(results.every((r) => r.success)).toBe(true);

    // received: stream level only
    expect(series(run, 'UserRecordsReceived')).toMatchObject({ count: 400, sum: 400 });
    expect(series(run, 'UserRecordsReceived', S)).toMatchObject({ count: 400 });
    expect(shardSeries(run, 'UserRecordsReceived')).toEqual([]);

    // user records: on the shard each landed on, rolled up to stream and root
    expect(series(run, 'UserRecordsPut')).toMatchObject({ count: 400, sum: 400, min: 1, max: 1 });
    expect(series(run, 'UserRecordsPut', S)).toMatchObject({ count: 400, sum: 400 });
    const landed = new Map<string, number>();
    for (const r of results) landed.set(r.shardId as string, (landed.get(r.shardId as string) ?? 0) + 1);
    for (const [shard, n] of landed) expect(series(run, 'UserRecordsPut', { ...S, ShardId: shard })).toMatchObject({ count: n, sum: n });
    expect(shardSeries(run, 'UserRecordsPut')).toHaveLength(landed.size);
    expect(series(run, 'UserRecordsDataPut')?.sum).toBe(sumOf(results, (r) => dataBytes(r.record.data as string)));
    expect(series(run, 'RetriesPerRecord')).toMatchObject({ count: 400, sum: 0 });
    expect(series(run, 'BufferingTime')?.count).toBe(400); // one sample per attempt
    expect(series(run, 'UserRecordExpired')).toBeUndefined();

    // Kinesis records: one sample each, on the predicted shard
    expect(series(run, 'KinesisRecordsPut')).toMatchObject({ count: stats.kinesisRecords, sum: stats.kinesisRecords });
    expect(series(run, 'KinesisRecordsDataPut')?.count).toBe(stats.kinesisRecords);
    expect(series(run, 'UserRecordsPerKinesisRecord')).toMatchObject({ count: stats.kinesisRecords, sum: 400 });
    expect(new Set(shardSeries(run, 'KinesisRecordsPut').map((m) => m.dimensions.ShardId))).toEqual(new Set(landed.keys()));
    expect(series(run, 'AllErrors')).toMatchObject({ count: stats.kinesisRecords, sum: 0 });
    expect(run.producer.getMetrics('ErrorsByCode')).toEqual([]);

    // requests: stream level only
    expect(series(run, 'RequestTime', S)?.count).toBe(requests.length);
    expect(shardSeries(run, 'RequestTime')).toEqual([]);
    expect(series(run, 'KinesisRecordsPerPutRecordsRequest')).toMatchObject({
      count: requests.length,
      sum: requests.reduce((n, q) => n + q.records, 0),
    });
    expect(series(run, 'UserRecordsPerPutRecordsRequest')).toMatchObject({ count: requests.length, sum: 400 });

    // pending: sampled per stream, never more than was outstanding
    const pending = series(run, 'UserRecordsPending', S);
    expect(pending?.count).toBeGreaterThan(0);
    expect(pending?.max).toBeLessThanOrEqual(400);
    expect(shardSeries(run, 'UserRecordsPending')).toEqual([]);
  });

  it('on per-record throttles: ErrorsByCode and AllErrors per failed Kinesis record on its predicted shard; retries per record', async () => {
    stub.setBehaviour({ throttleRecords: { every: 2 }, operations: ['PutRecords'] });
    const run = await produceMetered(stub, numberedRecords(400, 100, 'thr'));
    const { results } = run;
    const stats = stub.stats();
    expect(results.every((r) => r.success)).toBe(true);
    expect(stats.failedRecords).toBeGreaterThan(0);

    expect(series(run, 'ErrorsByCode', { ErrorCode: PTEE })).toMatchObject({ count: stats.failedRecords, sum: stats.failedRecords });
    expect(series(run, 'ErrorsByCode', { ErrorCode: PTEE, ...S })?.count).toBe(stats.failedRecords);
    const perShard = shardSeries(run, 'ErrorsByCode');
    expect(perShard.every((m) => m.dimensions.ErrorCode === PTEE)).toBe(true);
    expect(perShard.reduce((n, m) => n + m.count, 0)).toBe(stats.failedRecords);
    expect(series(run, 'AllErrors')).toMatchObject({ count: stats.failedRecords + stats.kinesisRecords, sum: stats.failedRecords });
    expect(series(run, 'KinesisRecordsPut')).toMatchObject({ count: stats.failedRecords + stats.kinesisRecords, sum: stats.kinesisRecords });

    const retries = sumOf(results, (r) => r.attempts.length - 1);
    expect(retries).toBeGreaterThan(0);
    expect(series(run, 'RetriesPerRecord')).toMatchObject({ count: 400, sum: retries });
    expect(series(run, 'BufferingTime')?.count).toBe(sumOf(results, (r) => r.attempts.length));
    expect(series(run, 'UserRecordsPut')).toMatchObject({ count: 400, sum: 400 });
  });

  it('on request-level 500s: one ErrorsByCode and one AllErrors per failed request, at stream level', async () => {
    stub.setBehaviour({ internalFailureRequests: { first: 2 }, operations: ['PutRecords'] });
    const run = await produceMetered(stub, numberedRecords(300, 100, 'req'));
    const failedRequests = stub.putRecordsRequests.filter((q) => q.outcome === 'error').length;
    expect(failedRequests).toBe(2);
    expect(run.results.every((r) => r.success)).toBe(true);

    expect(series(run, 'ErrorsByCode', { ErrorCode: 'InternalFailure' })).toMatchObject({ count: 2, sum: 2 });
    expect(series(run, 'ErrorsByCode', { ErrorCode: 'InternalFailure', ...S })?.count).toBe(2);
    expect(shardSeries(run, 'ErrorsByCode')).toEqual([]);
    expect(series(run, 'AllErrors')?.sum).toBe(2);
    expect(series(run, 'RequestTime')?.count).toBe(stub.putRecordsRequests.length); // failed requests are timed too
    expect(series(run, 'RetriesPerRecord')?.sum).toBe(sumOf(run.results, (r) => r.attempts.length - 1));
  });

  it('on expiry: UserRecordExpired and a 0 UserRecordsPut per record, RetriesPerRecord for failed records too', async () => {
    stub.setBehaviour({ throttleRecords: { fraction: 1 }, operations: ['PutRecords'] });
    const run = await produceMetered(stub, numberedRecords(100, 20, 'exp'), { recordTtlMs: 400 });
    const { results } = run;
    expect(results.every((r) => !r.success && r.errorCode === 'Expired')).toBe(true);

    expect(series(run, 'UserRecordExpired')).toMatchObject({ count: 100, sum: 100 });
    expect(series(run, 'UserRecordExpired', S)?.count).toBe(100);
    expect(series(run, 'UserRecordsPut')).toMatchObject({ count: 100, sum: 0 });
    expect(series(run, 'UserRecordsDataPut')).toBeUndefined();
    expect(series(run, 'RetriesPerRecord')).toMatchObject({ count: 100, sum: sumOf(results, (r) => r.attempts.length - 1) });
    expect(series(run, 'KinesisRecordsPut')?.sum).toBe(0);
    expect(series(run, 'ErrorsByCode', { ErrorCode: PTEE })?.count).toBe(stub.stats().failedRecords);
  });

  it('on a wrong-shard answer: the Kinesis record counts as put, each user record retries once and is counted on the shard it landed on', async () => {
    const neighbour = (actual: string): string => stubShardId((Number(actual.slice(-12)) + 1) % 4);
    stub.setBehaviour({ answerShardId: (actual, record) => (record.requestIndex === 0 ? neighbour(actual) : actual) });
    const run = await produceMetered(stub, numberedRecords(200, 40, 'ws'));
    const { results } = run;
    expect(results.every((r) => r.success && r.attempts.length === 2 && r.attempts[0].errorCode === 'Wrong Shard')).toBe(true);

    expect(series(run, 'RetriesPerRecord')).toMatchObject({ count: 200, sum: 200 });
    expect(series(run, 'BufferingTime')?.count).toBe(400);
    expect(run.producer.getMetrics('ErrorsByCode')).toEqual([]); // the record was written: no Kinesis error
    expect(series(run, 'AllErrors')?.sum).toBe(0);
    expect(series(run, 'KinesisRecordsPut')?.sum).toBe(stub.stats().kinesisRecords);
    expect(series(run, 'UserRecordsPut')).toMatchObject({ count: 200, sum: 200 });
    const perShard = shardSeries(run, 'UserRecordsPut');
    expect(new Set(perShard.map((m) => m.dimensions.ShardId))).toEqual(new Set(results.map((r) => r.shardId)));
    for (const m of perShard) {
      expect(m.count).toBe(results.filter((r) => r.shardId === m.dimensions.ShardId).length);
    }
  });
});
