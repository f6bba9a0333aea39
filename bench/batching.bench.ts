/**
 * Batching benchmark: aggregateByShard → collectBatches, no network.
 *
 * 1M user records of 100 B over 1,000 partition keys, predicted onto 64 shards by an even split of
 * the hash key space (shard = top 6 bits of md5(key)), built up front. Scheduler: `asyncScheduler`
 * (real timers) with deadlines 60 s away, so the size and count triggers do all the work and no
 * timer fires inside the timed run; completion flushes what is left.
 *
 * Prints: records/s through both operators (target ≥ 2M/s) and the share of MD5 in it, memory per
 * buffered record with 100k records held by the aggregation reducers — V8 heap plus ArrayBuffers,
 * since the aggregator stages each record's bytes as it arrives (target ≤ 200 B beyond the
 * BufferedRecord, which is built before the "before" reading and so not counted) — and the average
 * fill of aggregated records in % of aggregationMaxSize (target ≥ 95%).
 *
 * Run: node --expose-gc -r ts-node/register/transpile-only bench/batching.bench.ts
 */
import { asyncScheduler, Observable, Subject } from 'rxjs';
import { md5Bytes } from '../lib/codec/aggregation-format';
import { hashKeyOfPartitionKey, type HashKey } from '../lib/codec/hash';
import { aggregateByShard } from '../lib/operators/aggregate-by-shard';
import { collectBatches } from '../lib/operators/collect-batches';
import type { BufferedRecord, KinesisRecord, PutRecordsBatch } from '../lib/records';

const RECORDS = 1_000_000;
const HELD = 100_000;
const KEYS = 1000;
const SHARDS = 64;
const DATA_BYTES = 100;
const MAX_SIZE = 51200;
const STREAM = 'bench-stream';

const keys: { pk: string; hashKey: HashKey; shard: string }[] = Array.from({ length: KEYS }, (_, k) => {
  const pk = `partition-key-${String(k).padStart(6, '0')}`;
  const hashKey = hashKeyOfPartitionKey(pk);
  const shard = `shardId-${String(hashKey[0] >> 2).padStart(12, '0')}`; // 2^128 / 64 per shard
  return { pk, hashKey, shard };
});

function buildRecords(n: number, seed: number): BufferedRecord[] {
  const now = Date.now();
  const pool = new Uint8Array(n * DATA_BYTES);
  for (let i = 0; i < pool.length; i++) pool[i] = (i * 31 + seed) & 0xff;
  const out = new Array<BufferedRecord>(n);
  for (let i = 0; i < n; i++) {
    const key = keys[(i * 7 + seed) % KEYS];
    const data = pool.subarray(i * DATA_BYTES, (i + 1) * DATA_BYTES);
    out[i] = {
      record: { partitionKey: key.pk, data },
      streamName: STREAM,
      data,
      hashKey: key.hashKey,
      explicitHashKey: undefined,
      predictedShard: key.shard,
      arrival: now,
      deadline: now + 60_000,
      expiration: now + 120_000,
      attempts: [],
    };
  }
  return out;
}

interface RunResult {
  seconds: number;
  /** Process CPU time (all threads, GC helpers included): steadier than wall time on a shared machine. */
  cpuSeconds: number;
  batches: number;
  kinesisRecords: number;
  aggregatedFill: number;
  aggregatedFillBeforeCompletion: number;
}

function runThrough(records: BufferedRecord[], keep?: KinesisRecord[]): RunResult {
  let completing = false;
  let batches = 0;
  let kinesisRecords = 0;
  let aggCount = 0;
  let aggBytes = 0;
  let aggCountEarly = 0;
  let aggBytesEarly = 0;
  const countAggregated = (kr: KinesisRecord): void => {
    if (kr.records.length < 2) return;
    keep?.push(kr);
    aggCount++;
    aggBytes += kr.size;
    if (!completing) {
      aggCountEarly++;
      aggBytesEarly += kr.size;
    }
  };
  let delivered = 0;
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  // A plain loop of next calls, as `from(array)` (a Subject's next allocates an iterator and a
  // closure per call, ~130 B: that is the harness, not the operators).
  new Observable<BufferedRecord>((subscriber) => {
    for (let i = 0; i < records.length; i++) subscriber.next(records[i]);
    completing = true; // what completion flushes is counted apart
    subscriber.complete();
  })
    .pipe(aggregateByShard({ scheduler: asyncScheduler }), collectBatches({ scheduler: asyncScheduler, recordMaxBufferedTimeMs: 100 }))
    .subscribe((batch: PutRecordsBatch) => {
      batches++;
      for (const kr of batch.records) {
        kinesisRecords++;
        delivered += kr.records.length;
        countAggregated(kr);
      }
    });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  if (delivered !== records.length) throw new Error(`delivered ${delivered} of ${records.length}`);
  return {
    seconds,
    cpuSeconds,
    batches,
    kinesisRecords,
    aggregatedFill: aggBytes / (aggCount * MAX_SIZE),
    aggregatedFillBeforeCompletion: aggBytesEarly / (aggCountEarly * MAX_SIZE),
  };
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

/** Bytes the aggregation reducers add per held record: on the V8 heap, and in ArrayBuffers (the staged copies). */
function heapPerHeldRecord(): { overhead: number; heap: number; staged: number; carrier: number } {
  gc();
  const base = process.memoryUsage().heapUsed;
  const records = buildRecords(HELD, 3);
  gc();
  const before = process.memoryUsage();
  const source = new Subject<BufferedRecord>();
  let emitted = 0;
  // Big limits and far deadlines: the aggregation reducers hold all 100k records (~1,560 per shard, ~170 KB).
  const subscription = source
    .pipe(aggregateByShard({ scheduler: asyncScheduler, aggregationMaxSize: 1048576 }))
    .subscribe(() => emitted++);
  for (const r of records) source.next(r);
  gc();
  const after = process.memoryUsage();
  if (emitted !== 0) throw new Error(`expected the reducers to hold everything, ${emitted} emitted`);
  subscription.unsubscribe();
  // Keep `records` alive across both readings, so the delta is only what the operator adds.
  if (records.length !== HELD) throw new Error('unreachable');
  // The carrier itself on the heap (BufferedRecord + UserRecord + Uint8Array view; the data pool is an ArrayBuffer).
  const carrier = (before.heapUsed - base) / HELD;
  const heap = (after.heapUsed - before.heapUsed) / HELD;
  const staged = (after.arrayBuffers - before.arrayBuffers) / HELD;
  return { overhead: heap + staged, heap, staged, carrier };
}

function main(): void {
  if ((globalThis as { gc?: () => void }).gc === undefined) console.log('(run with --expose-gc for stable heap figures)');
  // Heap first, on a quiet heap.
  const heaps = [heapPerHeldRecord(), heapPerHeldRecord(), heapPerHeldRecord()];
  const overhead = heaps.map((h) => h.overhead).sort((a, b) => a - b)[1];

  const warm = buildRecords(200_000, 1);
  runThrough(warm);
  runThrough(warm);

  const records = buildRecords(RECORDS, 2);
  const runs: RunResult[] = [];
  for (let i = 0; i < 3; i++) {
    gc();
    runs.push(runThrough(records));
  }
  // How much of a run is the MD5 of the aggregated records (node:crypto, the floor of the codec):
  // hash the same protobuf bytes again on their own.
  const kept: KinesisRecord[] = [];
  runThrough(records, kept);
  gc();
  const md5Start = process.cpuUsage();
  let hashedBytes = 0;
  for (const kr of kept) {
    md5Bytes(kr.data.subarray(4, kr.data.length - 16));
    hashedBytes += kr.data.length - 20;
  }
  const md5Cpu = process.cpuUsage(md5Start);
  const md5Seconds = (md5Cpu.user + md5Cpu.system) / 1e6;
  kept.length = 0;

  const rates = runs.map((r) => RECORDS / r.seconds).sort((a, b) => a - b);
  const median = rates[1];
  const last = runs[runs.length - 1];

  const fmt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
  console.log(`records: ${fmt(RECORDS)} × ${DATA_BYTES} B, ${KEYS} keys, ${SHARDS} shards, aggregationMaxSize ${MAX_SIZE}`);
  console.log(
    `throughput (aggregateByShard → collectBatches): median ${fmt(median)} records/s ` +
      `(runs ${rates.map(fmt).join(', ')}); target 2,000,000 → ratio ${(median / 2e6).toFixed(2)}`,
  );
  const cpuRates = runs.map((r) => RECORDS / r.cpuSeconds).sort((a, b) => a - b);
  console.log(
    `  per CPU second (process CPU time, GC threads included): median ${fmt(cpuRates[1])} records/s ` +
      `(runs ${cpuRates.map(fmt).join(', ')}) → ratio ${(cpuRates[1] / 2e6).toFixed(2)}`,
  );
  const cpuPerRecord = 1e9 / cpuRates[1];
  const md5PerRecord = (md5Seconds * 1e9) / RECORDS;
  console.log(
    `  of which MD5 of the aggregated records (node:crypto): ${md5PerRecord.toFixed(0)} ns of ${cpuPerRecord.toFixed(0)} ns per record ` +
      `(${((100 * md5PerRecord) / cpuPerRecord).toFixed(0)}%; ${fmt(hashedBytes / 1e6)} MB hashed); everything else: ${fmt(1e9 / (cpuPerRecord - md5PerRecord))} records/s`,
  );
  console.log(`  per run: ${fmt(last.kinesisRecords)} Kinesis records in ${fmt(last.batches)} PutRecords batches`);
  console.log(
    `memory overhead per buffered record (100k held): ${overhead.toFixed(1)} B ` +
      `(runs ${heaps.map((h) => `${h.overhead.toFixed(1)} = heap ${h.heap.toFixed(1)} + staged bytes ${h.staged.toFixed(1)}`).join(', ')}); ` +
      `target ≤ 200 → ratio ${(overhead / 200).toFixed(2)}; the carrier itself (not counted): ~${heaps[1].carrier.toFixed(0)} B of heap + ${DATA_BYTES} B data`,
  );
  console.log(
    `aggregated record fill: ${(last.aggregatedFill * 100).toFixed(2)}% of aggregationMaxSize overall, ` +
      `${(last.aggregatedFillBeforeCompletion * 100).toFixed(2)}% excluding the ${SHARDS} partial ones flushed at completion; ` +
      `target ≥ 95% → ratio ${(last.aggregatedFill / 0.95).toFixed(3)}`,
  );
}

main();
