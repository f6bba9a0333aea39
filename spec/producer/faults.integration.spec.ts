/**
 * The composed producer against the fault-injecting stub (loopback): throttling, 500s, resets,
 * missing streams and hung requests. In every case each record gets one terminal result, and what the
 * producer calls a success is what the stub stored (nothing lost, nothing falsely reported).
 */
import { startFaultyKinesis, type FaultyKinesis } from '../../lib/testing/faulty-kinesis';
import { numberedRecords, produceAll, reconcile } from '../helpers/producer-faults';

describe('kinesisProducer under injected faults', () => {
  let stub: FaultyKinesis;
  beforeEach(async () => {
    stub = await startFaultyKinesis({ streams: { s: 4 } });
  });
  afterEach(async () => {
    await stub.close();
  });

  it('retries 30% throttled records until all succeed, with the failed attempts visible', async () => {
    stub.setBehaviour({ seed: 7, throttleRecords: { fraction: 0.3 }, operations: ['PutRecords'] });
    const records = numberedRecords(2000);
    const results = await produceAll(stub, records, { random: () => 0.5 });
    expect(results).toHaveLength(2000);
    const r = reconcile(stub, results);
    expect(r).toMatchObject({ succeeded: 2000, reportedButNotStored: 0 });
    const retried = results.filter((x) => x.attempts.some((a) => a.errorCode === 'ProvisionedThroughputExceededException'));
    expect(retried.length).toBeGreaterThan(0);
    expect(retried.every((x) => x.attempts[x.attempts.length - 1].success)).toBe(true);
  });

  it('fails throttled records after one attempt with failIfThrottled', async () => {
    stub.setBehaviour({ seed: 7, throttleRecords: { fraction: 0.3 }, operations: ['PutRecords'] });
    const results = await produceAll(stub, numberedRecords(1000), { failIfThrottled: true });
    const failed = results.filter((x) => !x.success);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((x) => x.attempts.length === 1 && x.errorCode === 'ProvisionedThroughputExceededException')).toBe(true);
    expect(reconcile(stub, results)).toMatchObject({ reportedButNotStored: 0, storedButFailed: 0 });
  });

  it('retries request-level 500s until all succeed', async () => {
    stub.setBehaviour({ internalFailureRequests: { first: 3 }, operations: ['PutRecords'] });
    const results = await produceAll(stub, numberedRecords(1000));
    expect(reconcile(stub, results)).toMatchObject({ succeeded: 1000, reportedButNotStored: 0 });
    expect(results.some((x) => x.attempts[0].errorCode === 'InternalFailure')).toBe(true);
  });

  it('loses no record when connections are reset mid-request', async () => {
    stub.setBehaviour({ resetRequests: { first: 2 }, operations: ['PutRecords'] });
    const results = await produceAll(stub, numberedRecords(1000));
    const r = reconcile(stub, results);
    expect(r).toMatchObject({ succeeded: 1000, reportedButNotStored: 0 });
    const resetCodes = new Set(results.flatMap((x) => x.attempts.filter((a) => !a.success).map((a) => a.errorCode)));
    expect(resetCodes.size).toBeGreaterThan(0);
  });

  it('fails every record of a missing stream with ResourceNotFoundException in under 2 s', async () => {
    const started = Date.now();
    const results = await produceAll(stub, numberedRecords(300), { streamName: 'missing' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(results).toHaveLength(300);
    expect(results.every((x) => !x.success && x.errorCode === 'ResourceNotFoundException')).toBe(true);
  });

  it('makes every record terminal within 6 s when the server never answers', async () => {
    stub.setBehaviour({ hangRequests: { fraction: 1 }, operations: ['PutRecords'] });
    const started = Date.now();
    const results = await produceAll(stub, numberedRecords(200), { requestTimeoutMs: 500, recordTtlMs: 3000 });
    const elapsed = Date.now() - started;
    expect(results).toHaveLength(200);
    expect(results.every((x) => !x.success)).toBe(true);
    const codes = new Set(results.map((x) => x.errorCode));
    expect([...codes].every((c) => c === 'Expired' || /Timeout/i.test(c ?? ''))).toBe(true);
    expect(elapsed).toBeLessThan(6000);
    expect(reconcile(stub, results).reportedButNotStored).toBe(0);
  });
});
