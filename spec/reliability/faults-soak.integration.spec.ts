/**
 * Issue 11.2: a faults soak on the fault-injecting stub (loopback). About 10% of Kinesis records
 * throttled, occasional request-level 500s, connection resets, slow answers and answers slower than
 * the request timeout, over 20,000 records, through the operator and through the Promise class. In
 * both: every record terminal exactly once; every success is something the stub stored; every
 * failure says why; and no timer or socket is left once the producer is closed.
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import { createKinesisClient } from '../../lib/producer/create-kinesis-client';
import { KinesisProducer } from '../../lib/producer/kinesis-producer-class';
import { kinesisProducer } from '../../lib/producer/kinesis-producer';
import type { RecordResult } from '../../lib/records';
import { localCredentials } from '../../lib/testing/embedded-kinesis';
import { startFaultyKinesis, type FaultBehaviour, type FaultyKinesis } from '../../lib/testing/faulty-kinesis';
import { attemptCodes, reliabilityRecords, resultsByRecord } from '../helpers/reliability-load';
import { checkAgainstStub, liveResources, settle, settleTo } from '../helpers/reliability-stub';

const RECORDS = 20_000;

/** The mix: 10% throttled entries, a 500 every 17th request, a reset every 29th, slow answers, some past the timeout. */
const SOAK: FaultBehaviour = {
  seed: 11,
  throttleRecords: { fraction: 0.1 },
  internalFailureRequests: { every: 17 },
  resetRequests: { every: 29 },
  latencyMs: (req) => (req.index % 41 === 40 ? 1500 : req.index % 7 === 3 ? 150 : 0),
};

/** Fast retries so the soak fits in seconds; the timeout is below the slowest answers. */
const PRODUCER = { recordMaxBufferedTimeMs: 20, requestTimeoutMs: 1000, random: () => 0.5 } as const;

function summary(stub: FaultyKinesis, results: RecordResult[]) {
  const outcomes: Record<string, number> = {};
  for (const req of stub.putRecordsRequests) outcomes[req.outcome] = (outcomes[req.outcome] ?? 0) + 1;
  return {
    ...checkAgainstStub(stub, results),
    putRecordsRequests: stub.putRecordsRequests.length,
    requestOutcomes: outcomes,
    throttledEntries: stub.stats().failedRecords,
    failedAttemptCodes: attemptCodes(results),
  };
}

/** Each fault of the mix reached the producer as a failed attempt with its code. */
function expectSoakFaultsSeen(codes: Record<string, number>): void {
  expect(codes['ProvisionedThroughputExceededException']).toBeGreaterThan(0);
  expect(codes['InternalFailure']).toBeGreaterThan(0);
  expect(codes['RequestTimeout']).toBeGreaterThan(0);
}

describe(`faults soak on the stub (${RECORDS} records: 10% throttled, 500s, resets, slow answers)`, () => {
  // Timers and sockets are counted from before the stub starts to after it and the producer are closed:
  // the stub holds timers of its own (answers still delayed when the client gave up), cleared by its close().
  let stub: FaultyKinesis | undefined;
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });

  it('makes every record terminal exactly once through the operator, successes ⊆ stored, and leaves no timer or socket', async () => {
    await settle();
    const baseline = liveResources();
    stub = await startFaultyKinesis({ streams: { s: 8 }, behaviour: SOAK });
    const records = reliabilityRecords(RECORDS, 2_000, 'op', 20);
    const results = await lastValueFrom(
      from(records).pipe(kinesisProducer({ client: stub.client, streamName: 's', overflow: 'buffer', aggregationEnabled: false, ...PRODUCER }), toArray()),
    );
    const s = summary(stub, results);
    await stub.close();
    await settleTo(baseline);
    const after = liveResources();
    console.log(`operator soak (aggregation off): ${JSON.stringify({ ...s, baseline, after })}`);

    expect(resultsByRecord(records, results).size).toBe(RECORDS);
    expect(s).toMatchObject({ successNotStored: 0, failureWithoutReason: 0 });
    const codes = s.failedAttemptCodes;
    expectSoakFaultsSeen(codes);
    // A reset is TimeoutError/ECONNRESET from the SDK; under jest it arrives as 'Unknown' ("AWS SDK error wrapper for
    // TimeoutError: socket hang up"): smithy's asSdkError does not recognise an Error from Node's realm inside jest's.
    expect(Object.keys(codes).some((c) => /TimeoutError|ECONNRESET|EPIPE|Unknown/.test(c))).toBe(true);
    expect(after.timeouts).toBeLessThanOrEqual(baseline.timeouts);
    expect(after.sockets).toBeLessThanOrEqual(baseline.sockets);
  }, 60_000);

  it('resolves every put exactly once through KinesisProducer, successes ⊆ stored, and close() leaves no timer or socket', async () => {
    await settle();
    const baseline = liveResources();
    stub = await startFaultyKinesis({ streams: { s: 8 }, behaviour: SOAK });
    const client = createKinesisClient({ endpoint: stub.endpoint, region: 'us-east-1', credentials: localCredentials() });
    const records = reliabilityRecords(RECORDS, 2_000, 'cls', 20);
    // Small aggregated records and requests, so 20,000 records make hundreds of requests to fault.
    const producer = new KinesisProducer({ client, streamName: 's', aggregationMaxSize: 512, collectionMaxCount: 10, ...PRODUCER });
    const results = await Promise.all(records.map((r) => producer.put(r)));
    await producer.close();
    const s = summary(stub, results);
    client.destroy();
    await stub.close();
    await settleTo(baseline);
    const after = liveResources();
    console.log(`class soak (aggregation on): ${JSON.stringify({ ...s, baseline, after })}`);

    expect(results.map((r) => r.record)).toEqual(records); // each put resolved with its own record's result
    expect(resultsByRecord(records, results).size).toBe(RECORDS);
    expect(s).toMatchObject({ successNotStored: 0, failureWithoutReason: 0 });
    expectSoakFaultsSeen(s.failedAttemptCodes);
    expect(after.timeouts).toBeLessThanOrEqual(baseline.timeouts);
    expect(after.sockets).toBeLessThanOrEqual(baseline.sockets);
  }, 60_000);
  it('gives every failure a code and a message when records do fail (failIfThrottled, short TTL, hung requests)', async () => {
    stub = await startFaultyKinesis({ streams: { s: 8 }, behaviour: { ...SOAK, hangRequests: { every: 13 } } });
    const records = reliabilityRecords(RECORDS, 2_000, 'fail', 20);
    const results = await lastValueFrom(
      from(records).pipe(
        kinesisProducer({
          client: stub.client,
          streamName: 's',
          overflow: 'buffer',
          aggregationMaxSize: 512,
          collectionMaxCount: 10,
          failIfThrottled: true,
          ...PRODUCER,
          recordTtlMs: 1500,
        }),
        toArray(),
      ),
    );
    const s = summary(stub, results);
    const failedCodes: Record<string, number> = {};
    for (const r of results) if (!r.success) failedCodes[r.errorCode ?? '?'] = (failedCodes[r.errorCode ?? '?'] ?? 0) + 1;
    console.log(`failing soak: ${JSON.stringify({ ...s, failedCodes })}`);

    expect(resultsByRecord(records, results).size).toBe(RECORDS);
    expect(s).toMatchObject({ successNotStored: 0, failureWithoutReason: 0 });
    expect(failedCodes['ProvisionedThroughputExceededException']).toBeGreaterThan(0);
    expect(failedCodes['Expired']).toBeGreaterThan(0);
    expect(s.failed).toBeGreaterThan(0);
    expect(s.succeeded).toBeGreaterThan(0);
  }, 60_000);
});
