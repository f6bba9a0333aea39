/**
 * Memory per outstanding record (issue 9, deliverable 3): RSS and heap the producer adds while
 * 100,000 records of 100 B (1,000 keys, 64 shards) are outstanding — put, aggregated, batched, and
 * waiting on PutRecords requests that the stub (in its own process, so its memory is not counted)
 * answers only after 4 s. The user's record objects exist before the baseline is taken, so what is
 * measured is the producer's own cost: carriers, aggregate copies, request bodies in flight.
 *
 * Target (issue 9): ≤ 300 bytes of RSS per outstanding 100-byte record.
 *
 * ```text
 * node --expose-gc -r ts-node/register/transpile-only bench/outstanding-memory.bench.ts [records=100000]
 * ```
 * Both forms are measured: the `kinesisProducer` operator fed by a Subject, and `KinesisProducer.put`
 * (which adds a Promise per record).
 *
 * ```text
 * ```
 */
import { lastValueFrom, Subject, toArray } from 'rxjs';
import { createKinesisClient } from '../lib/producer/create-kinesis-client';
import { kinesisProducer } from '../lib/producer/kinesis-producer';
import { KinesisProducer } from '../lib/producer/kinesis-producer-class';
import type { RecordResult, UserRecord } from '../lib/records';
import { startFaultyKinesisProcess } from '../lib/testing/faulty-kinesis-process';

const LATENCY_MS = 4000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function settle(): { rss: number; heap: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc (npm run bench does)');
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external }; // external includes arrayBuffers
}

type Form = 'operator' | 'class';

interface Measured {
  outstanding: number;
  rss: number;
  heap: number;
  failed: number;
  results: number;
}

async function measure(form: Form, endpoint: string, records: readonly UserRecord[]): Promise<Measured> {
  const n = records.length;
  const client = createKinesisClient({ endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const options = { client, streamName: 's', maxOutstandingRecords: n * 2, requestTimeoutMs: LATENCY_MS * 4, recordTtlMs: LATENCY_MS * 10 };
  try {
    if (form === 'class') {
      const producer = new KinesisProducer(options);
      // Warm-up: the SDK, the shard map and the code paths exist before the baseline.
      await producer.put({ partitionKey: 'warm-up', data: 'x' });
      await sleep(200);
      const before = settle();
      const pending: Promise<RecordResult>[] = new Array(n);
      for (let i = 0; i < n; i++) pending[i] = producer.put(records[i]);
      // Past recordMaxBufferedTimeMs (100 ms): everything is aggregated, batched and sent or queued.
      await sleep(1000);
      const outstanding = producer.outstandingRecords;
      const during = settle();
      const results = await Promise.all(pending);
      await producer.close();
      return { outstanding, rss: during.rss - before.rss, heap: during.heap - before.heap, failed: results.filter((r) => !r.success).length, results: results.length };
    }
    const source = new Subject<UserRecord>();
    const operator = kinesisProducer(options);
    let outstanding = 0;
    const sub = operator.outstanding$.subscribe((c) => (outstanding = c.records));
    const done = lastValueFrom(source.pipe(operator, toArray()));
    source.next({ partitionKey: 'warm-up', data: 'x' });
    await sleep(LATENCY_MS + 1500);
    const before = settle();
    for (let i = 0; i < n; i++) source.next(records[i]);
    await sleep(1000);
    const seen = outstanding;
    const during = settle();
    source.complete();
    const results = await done;
    sub.unsubscribe();
    return { outstanding: seen, rss: during.rss - before.rss, heap: during.heap - before.heap, failed: results.filter((r) => !r.success).length, results: results.length - 1 };
  } finally {
    client.destroy();
  }
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 100000);
  const stub = await startFaultyKinesisProcess({ streams: { s: 64 }, behaviour: { operations: ['PutRecords'], latencyMs: LATENCY_MS } });
  try {
    const payload = Buffer.alloc(n * 100, 0x61);
    const records = Array.from({ length: n }, (_, i) => ({
      partitionKey: `partition-key-${String(i % 1000).padStart(6, '0')}`,
      data: new Uint8Array(payload.buffer, payload.byteOffset + i * 100, 100),
    }));
    for (const form of ['operator', 'class'] as const) {
      const m = await measure(form, stub.endpoint, records);
      console.log(
        `outstanding memory (${form.padEnd(8)}): ${m.outstanding.toLocaleString('en-US')} records of 100 B outstanding (stub answers after ${LATENCY_MS} ms): ` +
          `RSS +${(m.rss / 2 ** 20).toFixed(1)} MiB = ${(m.rss / m.outstanding).toFixed(0)} B/record, ` +
          `heap+external (ArrayBuffers included) +${(m.heap / 2 ** 20).toFixed(1)} MiB = ${(m.heap / m.outstanding).toFixed(0)} B/record; ` +
          `${m.results - m.failed} succeeded, ${m.failed} failed`,
      );
      if (m.outstanding < n * 0.99 || m.failed > 0 || m.results !== n) {
        console.log('FAIL: not every record was outstanding at the sample, or some failed');
        process.exitCode = 1;
      }
    }
    console.log('target (issue 9): ≤ 300 B of RSS per outstanding 100-byte record');
  } finally {
    await stub.close();
  }
}

void main();
