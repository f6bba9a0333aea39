/**
 * Memory under a long Writable pipeline (issue 8): records through createKinesisWriteStream to the
 * fault stub in a child process — a 300,000-record warm-up, then the 1,000,000 records measured.
 * Prints RSS and heap every second (after a GC, and settled after a second one, when run with
 * --expose-gc as `npm run bench` does; see the sampler) and the RSS spread over the measured
 * records; flat means a spread within 50 MB. Also the RSS trend (least-squares slope against
 * records written): growth that goes on shows there, GC and allocator noise does not.
 *
 * Why a warm-up of 300,000: the producer fills its 100,000-record window in ~0.5 s, but V8 and
 * glibc size their heaps for the load over the first ~1.5 s (~300,000 records here): the malloc
 * arena grows by ~40 MB as the first request bodies come and go. A spread taken from the
 * 100,000th record of 1,000,000 on caught that climb (`… 900000 - 100000` measures it that way).
 *
 * Run alone: node --expose-gc -r ts-node/register/transpile-only bench/writable-rss.bench.ts [records=1000000] [maxOutstandingRecords|-] [warmUp=300000]
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createKinesisClient } from '../lib/producer/create-kinesis-client';
import { createKinesisWriteStream } from '../lib/producer/kinesis-write-stream';
import { startFaultyKinesisProcess } from '../lib/testing/faulty-kinesis-process';

function* generate(n: number): Generator<{ partitionKey: string; data: string }> {
  for (let i = 0; i < n; i++) yield { partitionKey: `pk-${i % 1000}`, data: `record-${i}-${'x'.repeat(80)}` };
}

/** Least-squares slope of `ys` (bytes) against `xs` (records), in MB per 100,000 records; 0 with fewer than 2 samples. */
function slopeMbPer100k(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  return sxx === 0 ? 0 : ((sxy / sxx) * 100_000) / 2 ** 20;
}

async function main(): Promise<void> {
  const measured = Number(process.argv[2] ?? 1_000_000);
  const maxOutstandingRecords = process.argv[3] === undefined || process.argv[3] === '-' ? undefined : Number(process.argv[3]);
  const warmUp = Number(process.argv[4] ?? 300_000);
  const total = warmUp + measured;
  const stub = await startFaultyKinesisProcess({ streams: { s: 64 } });
  const client = createKinesisClient({ endpoint: stub.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const sink = createKinesisWriteStream({
    client,
    streamName: 's',
    highWaterMark: 1000,
    ...(maxOutstandingRecords === undefined ? {} : { maxOutstandingRecords }),
  });
  let done = 0;
  let failed = 0;
  sink.on('result', (r: { success: boolean }) => {
    done++;
    if (!r.success) failed++;
  });
  const started = Date.now();
  // RSS sampled twice each second: right after one full GC, and after a second one. `gc()` returns
  // while V8 is still sweeping and releasing the pages (and freeing the ArrayBuffers) that the GC
  // found dead, concurrently; the second GC waits for that first. So the first reading still holds
  // garbage whose release is pending, the second ("settled") is what the process retains — the same
  // settle as outstanding-memory.bench.ts. Both spreads are printed.
  const rss: number[] = [];
  const settledRss: number[] = [];
  /** Results so far at each RSS sample: the trend is RSS against records written. */
  const doneAt: number[] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  const sampler = setInterval(() => {
    gc?.();
    const m = process.memoryUsage();
    gc?.();
    const settled = process.memoryUsage();
    if (done > warmUp) {
      rss.push(m.rss);
      settledRss.push(settled.rss);
      doneAt.push(done);
    }
    const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
    console.log(
      `${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s  ${String(done).padStart(8)} results  rss ${mb(m.rss)} MB (settled ${mb(settled.rss)})  heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} MB (settled ${mb(settled.heapUsed)}/${mb(settled.heapTotal)})  arrayBuffers ${mb(m.arrayBuffers)} MB (settled ${mb(settled.arrayBuffers)})`,
    );
  }, 1000);
  await pipeline(Readable.from(generate(total)), sink);
  clearInterval(sampler);
  const seconds = (Date.now() - started) / 1000;
  const stats = await stub.stats();
  const spreadOf = (xs: number[]): number => (xs.length > 0 ? (Math.max(...xs) - Math.min(...xs)) / 2 ** 20 : 0);
  console.log(`writable: ${done} results (${failed} failed) in ${seconds.toFixed(1)} s = ${Math.round(done / seconds)} records/s`);
  console.log(`stub counted ${stats.userRecords} user records in ${stats.kinesisRecords} Kinesis records`);
  console.log(
    `RSS spread over the ${measured} records after the ${warmUp}-record warm-up: ${spreadOf(settledRss).toFixed(1)} MB settled, ${spreadOf(rss).toFixed(1)} MB after one GC, over ${rss.length} samples (flat = within 50 MB)`,
  );
  // Spread is noise plus trend; the least-squares slope tells growth (a leak) from noise (GC and allocator slack).
  console.log(`RSS trend after warm-up: ${slopeMbPer100k(doneAt, settledRss).toFixed(1)} MB per 100,000 records settled (a leak would show here)`);
  client.destroy();
  await stub.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
