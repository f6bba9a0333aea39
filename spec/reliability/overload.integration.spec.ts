/**
 * Issue 11.3: overload. A source far faster than Kinesis (the stub answers 100 ms late; aggregation
 * off so the per-shard limits bind): memory stays bounded — the outstanding count, sampled on every
 * change, never exceeds `maxOutstandingRecords` / `maxOutstandingBytes` (kpl.md §12 items 1–2). The
 * operator with `overflow: 'fail'` answers the excess with `Backpressure` failures (one result per
 * record, never silent); the class form makes `put` wait instead, and every record succeeds.
 */
import { lastValueFrom, Observable, toArray } from 'rxjs';
import { KinesisProducer } from '../../lib/producer/kinesis-producer-class';
import { BACKPRESSURE, kinesisProducer } from '../../lib/producer/kinesis-producer';
import type { UserRecord } from '../../lib/records';
import { startFaultyKinesis, type FaultyKinesis } from '../../lib/testing/faulty-kinesis';
import { reliabilityRecords, resultsByRecord } from '../helpers/reliability-load';
import { checkAgainstStub } from '../helpers/reliability-stub';

/** Emits `records` in bursts of `burst` every millisecond tick (≈ burst × 1000/s), then completes. */
function flood(records: readonly UserRecord[], burst: number): Observable<UserRecord> {
  return new Observable<UserRecord>((subscriber) => {
    let sent = 0;
    const timer = setInterval(() => {
      for (let i = 0; i < burst && sent < records.length && !subscriber.closed; i++) subscriber.next(records[sent++]);
      if (sent >= records.length) {
        clearInterval(timer);
        subscriber.complete();
      }
    }, 1);
    return () => clearInterval(timer);
  });
}

describe('overload: a source far faster than Kinesis (stub answering 100 ms late)', () => {
  let stub: FaultyKinesis;
  beforeEach(async () => {
    stub = await startFaultyKinesis({ streams: { s: 4 }, behaviour: { latencyMs: 100 } });
  });
  afterEach(async () => {
    await stub.close();
  });

  it("keeps outstanding within the limits and fails the excess with Backpressure (operator, overflow 'fail')", async () => {
    const maxOutstandingRecords = 5_000;
    const maxOutstandingBytes = 1_048_576; // binds first: ~1,700 records of ~600 bytes
    const records = reliabilityRecords(20_000, 1_000, 'ovf', 580);
    const producer = kinesisProducer({ client: stub.client, streamName: 's', aggregationEnabled: false, maxOutstandingRecords, maxOutstandingBytes });
    const peak = { records: 0, bytes: 0, samples: 0 };
    const sampler = producer.outstanding$.subscribe((o) => {
      peak.samples++;
      peak.records = Math.max(peak.records, o.records);
      peak.bytes = Math.max(peak.bytes, o.bytes);
    });
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const results = await lastValueFrom(flood(records, 100).pipe(producer, toArray()));
    const elapsedMs = performance.now() - started;
    sampler.unsubscribe();
    const refused = results.filter((r) => !r.success && r.errorCode === BACKPRESSURE);
    const stored = checkAgainstStub(stub, results);
    console.log(
      `operator overload: ${JSON.stringify({ records: records.length, elapsedMs: Math.round(elapsedMs), peak, refused: refused.length, ...stored, heapGrowthMiB: Math.round((process.memoryUsage().heapUsed - heapBefore) / 2 ** 20) })}`,
    );

    expect(resultsByRecord(records, results).size).toBe(records.length); // never silent: one result per record
    expect(peak.records).toBeLessThanOrEqual(maxOutstandingRecords);
    expect(peak.bytes).toBeLessThanOrEqual(maxOutstandingBytes);
    expect(peak.samples).toBeGreaterThan(1000);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((r) => /maxOutstanding/.test(r.errorMessage ?? '') && r.attempts.length === 1)).toBe(true);
    // Every other record succeeded and was stored; nothing refused was sent.
    expect(stored.succeeded + refused.length).toBe(records.length);
    expect(stored).toMatchObject({ successNotStored: 0, failedButStored: 0 });
  }, 60_000);

  it('makes put() wait for room instead of failing (KinesisProducer): outstanding never above the limit, all succeed', async () => {
    const maxOutstandingRecords = 1_000;
    const records = reliabilityRecords(20_000, 1_000, 'cls', 580);
    const producer = new KinesisProducer({ client: stub.client, streamName: 's', aggregationEnabled: false, maxOutstandingRecords });
    let peak = 0;
    let samples = 0;
    const onResult = producer.results$.subscribe(() => {
      samples++;
      peak = Math.max(peak, producer.outstandingRecords);
    });
    const poll = setInterval(() => {
      samples++;
      peak = Math.max(peak, producer.outstandingRecords);
    }, 5);
    const started = performance.now();
    const results = await Promise.all(records.map((r) => producer.put(r)));
    const elapsedMs = performance.now() - started;
    clearInterval(poll);
    await producer.close();
    onResult.unsubscribe();
    const stored = checkAgainstStub(stub, results);
    console.log(`class overload: ${JSON.stringify({ records: records.length, elapsedMs: Math.round(elapsedMs), peak, samples, ...stored })}`);

    expect(peak).toBeLessThanOrEqual(maxOutstandingRecords);
    expect(peak).toBeGreaterThan(maxOutstandingRecords / 2); // the limit, not the source, set the pace
    expect(results.map((r) => r.record)).toEqual(records);
    expect(stored).toMatchObject({ succeeded: records.length, successNotStored: 0 });
  }, 60_000);
});
