/**
 * The Promise class against the fault-injecting stub: back-pressure (put waits for room), an
 * awaitable flush, and a close that leaves nothing pending.
 */
import { KinesisProducer, ProducerClosedError } from '../../lib/producer/kinesis-producer-class';
import { ValidationError } from '../../lib/config';
import type { RecordResult } from '../../lib/records';
import { startFaultyKinesis, type FaultyKinesis } from '../../lib/testing/faulty-kinesis';
import { numberedRecords } from '../helpers/producer-faults';

/** Live timers (setTimeout/setInterval), not counting sockets' idle timers. */
function timeouts(): number {
  const handles = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles();
  return handles.filter((h) => h.constructor.name === 'Timeout').length;
}

describe('KinesisProducer (Promise class)', () => {
  let stub: FaultyKinesis;
  afterEach(async () => {
    await stub?.close();
  });

  it('never holds more than maxOutstandingRecords while 10,000 puts wait for room (200 ms latency)', async () => {
    stub = await startFaultyKinesis({ streams: { s: 4 }, behaviour: { latencyMs: 200, operations: ['PutRecords'] } });
    const producer = new KinesisProducer({ client: stub.client, streamName: 's', maxOutstandingRecords: 100, recordMaxBufferedTimeMs: 10 });
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, producer.outstandingRecords)), 2);
    const puts = numberedRecords(10_000, 500).map((r) =>
      producer.put(r).then((result) => {
        peak = Math.max(peak, producer.outstandingRecords);
        return result;
      }),
    );
    peak = Math.max(peak, producer.outstandingRecords);
    const results = await Promise.all(puts);
    clearInterval(sampler);
    await producer.close();
    console.log(`back-pressure: peak outstanding ${peak} of 100 over 10,000 puts`);
    expect(peak).toBeLessThanOrEqual(100);
    expect(peak).toBeGreaterThan(50);
    expect(results.every((r) => r.success)).toBe(true);
  }, 60_000);

  it('flush() sends at once and resolves only after every earlier record is terminal', async () => {
    stub = await startFaultyKinesis({ streams: { s: 2 }, behaviour: { latencyMs: 300, operations: ['PutRecords'] } });
    // Deadlines of 60 s: without flush nothing would be sent for a minute.
    const producer = new KinesisProducer({ client: stub.client, streamName: 's', recordMaxBufferedTimeMs: 60_000 });
    const settled: RecordResult[] = [];
    const puts = numberedRecords(50).map((r) => producer.put(r).then((res) => settled.push(res)));
    const started = Date.now();
    await producer.flush();
    const elapsed = Date.now() - started;
    expect(settled).toHaveLength(50); // every record put before flush() is terminal when it resolves
    expect(settled.filter((r) => !r.success).map((r) => r.attempts)).toEqual([]);
    expect(elapsed).toBeGreaterThanOrEqual(250); // it waited for the slow answers...
    expect(elapsed).toBeLessThan(10_000); // ...not for the 60 s deadlines
    await Promise.all(puts);
    await producer.close();
  });

  it('flush() on an idle producer resolves at once', async () => {
    stub = await startFaultyKinesis({ streams: { s: 1 } });
    const producer = new KinesisProducer({ client: stub.client, streamName: 's' });
    await expect(producer.flush()).resolves.toBeUndefined();
    await producer.close();
  });

  it('close() during in-flight requests resolves every record, then refuses puts and leaves no timer', async () => {
    stub = await startFaultyKinesis({ streams: { s: 2 }, behaviour: { latencyMs: 300, operations: ['PutRecords'] } });
    const before = timeouts();
    const producer = new KinesisProducer({ client: stub.client, streamName: 's', recordMaxBufferedTimeMs: 10 });
    let pending = 0;
    const puts = numberedRecords(300).map((r) => {
      pending++;
      return producer.put(r).finally(() => pending--);
    });
    await new Promise((resolve) => setTimeout(resolve, 50)); // requests are in flight now
    await producer.close();
    expect(pending).toBe(0);
    const results = await Promise.all(puts);
    expect(results.every((r) => r.success)).toBe(true);
    await expect(producer.put({ partitionKey: 'late', data: 'x' })).rejects.toBeInstanceOf(ProducerClosedError);
    await expect(producer.close()).resolves.toBeUndefined(); // idempotent
    expect(timeouts()).toBeLessThanOrEqual(before);
  });

  it('rejects a bad record with a ValidationError and keeps going', async () => {
    stub = await startFaultyKinesis({ streams: { s: 1 } });
    const producer = new KinesisProducer({ client: stub.client, streamName: 's', recordMaxBufferedTimeMs: 10 });
    await expect(producer.put({ partitionKey: 'x'.repeat(257), data: 'x' })).rejects.toBeInstanceOf(ValidationError);
    await expect(producer.put({ partitionKey: 'ok', data: 'x' })).resolves.toMatchObject({ success: true });
    await producer.close();
  });

  it('emits every result on results$ and counts outstanding records', async () => {
    stub = await startFaultyKinesis({ streams: { s: 1 } });
    const producer = new KinesisProducer({ client: stub.client, streamName: 's', recordMaxBufferedTimeMs: 10 });
    const seen: RecordResult[] = [];
    producer.results$.subscribe((r) => seen.push(r));
    const puts = numberedRecords(20).map((r) => producer.put(r));
    expect(producer.outstandingRecords).toBe(20);
    await Promise.all(puts);
    expect(producer.outstandingRecords).toBe(0);
    expect(seen).toHaveLength(20);
    await producer.close();
  });

  it('resolves every put of the very same record object, admitted or waiting for room, each with its own result', async () => {
    stub = await startFaultyKinesis({ streams: { s: 2 } });
    const producer = new KinesisProducer({ client: stub.client, streamName: 's', maxOutstandingRecords: 2, recordMaxBufferedTimeMs: 10 });
    const same = { partitionKey: 'same', data: 'x' };
    const others = numberedRecords(3);
    // same, others[0] are admitted; the rest wait: the three later puts of `same` are admitted one by one as room frees.
    const puts = [same, others[0], same, others[1], same, others[2], same].map((r) => producer.put(r));
    expect(producer.outstandingRecords).toBe(2);
    const results = await Promise.all(puts);
    expect(results.map((r) => [r.record, r.success])).toEqual([same, others[0], same, others[1], same, others[2], same].map((r) => [r, true]));
    expect(new Set(results.filter((r) => r.record === same)).size).toBe(4);
    expect(producer.outstandingRecords).toBe(0);
    await producer.close();
  });

  it('fails every admitted put and every waiting put with InternalError when the pipeline breaks (a bug), hanging none', async () => {
    // A throwing jitter source is a bug inside the retrier: the pipeline errors, the class fails what is pending.
    stub = await startFaultyKinesis({ streams: { s: 2 }, behaviour: { record: () => ({ errorCode: 'InternalFailure' }) } });
    const boom = (): number => {
      throw new Error('jitter bug');
    };
    const producer = new KinesisProducer({ client: stub.client, streamName: 's', maxOutstandingRecords: 5, recordMaxBufferedTimeMs: 10, random: boom });
    const records = numberedRecords(8);
    const results = await Promise.all(records.map((r) => producer.put(r)));
    expect(results.map((r) => [r.record, r.success, r.errorCode, r.errorMessage])).toEqual(records.map((r) => [r, false, 'InternalError', 'jitter bug']));
    expect(producer.outstandingRecords).toBe(0);
    await producer.close();
  });
});
