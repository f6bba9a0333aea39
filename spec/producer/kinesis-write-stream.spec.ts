/**
 * createKinesisWriteStream: a Node Writable that is bounded end to end — it calls back only when
 * the producer has room, emits 'result' per record and 'finish' only when every record is terminal.
 * (RSS over 1,000,000 records is measured by bench/writable-rss.bench.ts, not asserted here: a
 * memory figure is a measurement, not a test.)
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createKinesisWriteStream } from '../../lib/producer/kinesis-write-stream';
import type { RecordResult, UserRecord } from '../../lib/records';
import { startFaultyKinesis, type FaultyKinesis } from '../../lib/testing/faulty-kinesis';

function* generate(n: number): Generator<UserRecord> {
  for (let i = 0; i < n; i++) yield { partitionKey: `pk-${i % 1000}`, data: `record-${i}-${'x'.repeat(80)}` };
}

describe('createKinesisWriteStream', () => {
  let stub: FaultyKinesis;
  afterEach(async () => {
    await stub?.close();
  });

  it("emits 'result' for every record and 'finish' only after all are terminal", async () => {
    stub = await startFaultyKinesis({ streams: { s: 4 }, behaviour: { latencyMs: 20, operations: ['PutRecords'] } });
    const sink = createKinesisWriteStream({ client: stub.client, streamName: 's', recordMaxBufferedTimeMs: 10 });
    const results: RecordResult[] = [];
    let atFinish = -1;
    sink.on('result', (r: RecordResult) => results.push(r));
    sink.on('finish', () => (atFinish = results.length));
    await pipeline(Readable.from(generate(5000)), sink);
    expect(atFinish).toBe(5000);
    expect(results.every((r) => r.success)).toBe(true);
    expect(stub.stats().userRecords).toBe(5000);
  });

  it("rethrows a throwing 'result' listener's error on the next tick, and every other record still gets its result", async () => {
    stub = await startFaultyKinesis({ streams: { s: 2 } });
    const sink = createKinesisWriteStream({ client: stub.client, streamName: 's', recordMaxBufferedTimeMs: 10 });
    // What the Writable defers to the next tick and throws there (an uncaught exception outside jest), caught here.
    const rethrown: unknown[] = [];
    const nextTick = process.nextTick.bind(process);
    const spy = jest.spyOn(process, 'nextTick').mockImplementation((fn: Function, ...args: unknown[]) =>
      nextTick(() => {
        try {
          (fn as (...a: unknown[]) => void)(...args);
        } catch (err) {
          rethrown.push(err);
        }
      }),
    );
    const bug = new Error('listener bug');
    let results = 0;
    sink.on('result', () => {
      if (++results === 5) throw bug;
    });
    try {
      await pipeline(Readable.from(generate(200)), sink);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      spy.mockRestore();
    }
    expect(results).toBe(200);
    expect(rethrown).toEqual([bug]);
    expect(stub.stats().userRecords).toBe(200);
  });

  it('turns a bad record into a failed result and goes on', async () => {
    stub = await startFaultyKinesis({ streams: { s: 1 } });
    const sink = createKinesisWriteStream({ client: stub.client, streamName: 's', recordMaxBufferedTimeMs: 10 });
    const results: RecordResult[] = [];
    sink.on('result', (r: RecordResult) => results.push(r));
    await pipeline(
      Readable.from([{ partitionKey: '', data: 'bad' }, { partitionKey: 'ok', data: 'good' }]),
      sink,
    );
    // One result each, in any order; the refused record's result says why in its one attempt, as
    // every other failed result does (kpl.md §12 item 16).
    const byKey = [...results].sort((a, b) => a.record.partitionKey.localeCompare(b.record.partitionKey));
    expect(byKey.map((r) => [r.record.partitionKey, r.success, r.errorCode])).toEqual([
      ['', false, 'ValidationError'],
      ['ok', true, undefined],
    ]);
    expect(byKey[0].attempts).toEqual([expect.objectContaining({ success: false, errorCode: 'ValidationError', errorMessage: byKey[0].errorMessage })]);
  });

  it('calls back a write only when the producer has room', async () => {
    stub = await startFaultyKinesis({ streams: { s: 1 }, behaviour: { latencyMs: 100, operations: ['PutRecords'] } });
    const sink = createKinesisWriteStream({ client: stub.client, streamName: 's', maxOutstandingRecords: 10, highWaterMark: 4, recordMaxBufferedTimeMs: 5 });
    let pulled = 0;
    let resulted = 0;
    let maxAhead = 0;
    sink.on('result', () => resulted++);
    const source = Readable.from(
      (function* () {
        for (const r of generate(200)) {
          pulled++;
          maxAhead = Math.max(maxAhead, pulled - resulted);
          yield r;
        }
      })(),
    );
    await pipeline(source, sink);
    // at most: 10 in the producer + 1 waiting in write() + highWaterMark 4 buffered + Readable's own buffer
    expect(maxAhead).toBeLessThanOrEqual(10 + 1 + 4 + 16);
    expect(resulted).toBe(200);
  });
});
