/**
 * Limiter throughput: `rateLimitPerShard` with 64 shards and ample tokens (rateLimit 10000, so each
 * shard refills 100,000 records/s and 100 MiB/s, far above what one core can push through), on
 * the real asyncScheduler. Every record takes the fast path: queue empty, tokens enough, emitted at
 * once. Target: ≥ 3,000,000 Kinesis records/s. The peer figure is an identity `map` (the cost of
 * one rxjs operator hop on the same data), so the ratio says what the Limiter adds over a bare hop.
 *
 * Run alone: node -r ts-node/register/transpile-only bench/limiter.bench.ts
 */
import { map, Observable, type OperatorFunction } from 'rxjs';
import { rateLimitPerShard } from '../lib/operators/rate-limit-per-shard';
import type { BufferedRecord, KinesisRecord } from '../lib/records';

const SHARDS = 64;
const RECORDS = 1_000_000;
const ROUNDS = 7;
const TARGET = 3_000_000;

function buildRecords(n: number, streams: number): KinesisRecord[] {
  const data = new Uint8Array(100);
  const hashKey = new Uint8Array(16);
  const shardIds = Array.from({ length: SHARDS }, (_, i) => `shardId-${String(i).padStart(12, '0')}`);
  const streamNames = Array.from({ length: streams }, (_, i) => `stream-${i}`);
  const out: KinesisRecord[] = [];
  for (let i = 0; i < n; i++) {
    const streamName = streamNames[i % streams];
    const predictedShard = shardIds[i % SHARDS];
    const partitionKey = `pk-${i}`;
    const buffered: BufferedRecord = {
      record: { partitionKey, data },
      streamName,
      data,
      hashKey,
      explicitHashKey: undefined,
      predictedShard,
      arrival: 0,
      deadline: 0,
      expiration: Number.MAX_SAFE_INTEGER,
      attempts: [],
    };
    out.push({ streamName, predictedShard, records: [buffered], partitionKey, explicitHashKey: '0', data, size: data.length, deadline: 0, expiration: Number.MAX_SAFE_INTEGER });
  }
  return out;
}

/**
 * Pushes every record synchronously through `op`; returns records per wall second, records per
 * CPU second of this process (less disturbed when other processes share the 2 cores), and how many came out.
 */
function run(records: KinesisRecord[], op: OperatorFunction<KinesisRecord, unknown>): { perSecond: number; perCpuSecond: number; out: number } {
  const source = new Observable<KinesisRecord>((subscriber) => {
    for (let i = 0; i < records.length; i++) subscriber.next(records[i]);
    subscriber.complete();
  });
  let out = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  source.pipe(op).subscribe({ next: () => out++ });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  return { perSecond: records.length / seconds, perCpuSecond: records.length / cpuSeconds, out };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function measure(name: string, records: KinesisRecord[], makeOp: () => OperatorFunction<KinesisRecord, unknown>): number {
  const rates: number[] = [];
  const cpuRates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const { perSecond, perCpuSecond, out } = run(records, makeOp());
    if (out !== records.length) throw new Error(`${name}: ${out} of ${records.length} records came out`);
    if (round > 0) {
      // round 0 warms up the JIT
      rates.push(perSecond);
      cpuRates.push(perCpuSecond);
    }
  }
  const m = median(rates);
  console.log(
    `${name.padEnd(58)} median ${fmt(m).padStart(11)} records/s wall (best ${fmt(Math.max(...rates))}, worst ${fmt(Math.min(...rates))}), ` +
      `${fmt(median(cpuRates))} records per CPU-second`,
  );
  return m;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

const oneStream = buildRecords(RECORDS, 1);
const twoStreams = buildRecords(RECORDS, 2);
console.log(`rateLimitPerShard, ${fmt(RECORDS)} Kinesis records of 100 B over ${SHARDS} shards, ${ROUNDS - 1} timed rounds, Node ${process.version}`);
const peer = measure('identity map (one rxjs hop, peer)', oneStream, () => map((r: KinesisRecord) => r));
const limiter = measure('rateLimitPerShard, 1 stream × 64 shards, rateLimit 10000', oneStream, () => rateLimitPerShard({ rateLimit: 10000 }));
const alternating = measure('rateLimitPerShard, 2 streams alternating × 64 shards', twoStreams, () => rateLimitPerShard({ rateLimit: 10000 }));
console.log(`ratio to target ${fmt(TARGET)}/s: ${(limiter / TARGET).toFixed(2)}× (1 stream), ${(alternating / TARGET).toFixed(2)}× (2 streams); ` +
  `ratio to identity map: ${(limiter / peer).toFixed(2)}×`);
