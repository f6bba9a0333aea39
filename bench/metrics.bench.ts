/**
 * Metrics cost (kpl.md §9): `put()` at level 'none' against a bare loop (the floor: it must cost
 * nothing measurable), and at 'detailed' with shard granularity (puts/s; a put updates only its
 * most specific series, the roll-up is combined on read), with and without a sample listener (the
 * OpenTelemetry/Prometheus path).
 *
 * Run: node -r ts-node/register/transpile-only bench/metrics.bench.ts
 */
import { createMetricsRecorder } from '../lib/metrics/metrics-recorder';
import type { MetricsRecorder } from '../lib/metrics/metrics-recorder';
import type { MetricName } from '../lib/metrics/metric-names';

const N = 5_000_000;
const STREAMS = ['orders', 'payments'];
const SHARDS = ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003'];
const NAMES: MetricName[] = ['UserRecordsPut', 'BufferingTime', 'UserRecordsDataPut', 'AllErrors'];

let clockMs = 0;
const now = (): number => clockMs;

function bare(n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) {
    clockMs += 0.01;
    acc += i & 7;
  }
  return acc;
}

function puts(recorder: MetricsRecorder, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) {
    clockMs += 0.01; // 100 puts per ms: a new bucket every 100 000 puts
    recorder.put(NAMES[i & 3], i & 7, STREAMS[(i >> 2) & 1], SHARDS[(i >> 3) & 3]); // independent bits: every name × stream × shard
    acc += i & 7;
  }
  return acc;
}

function time(label: string, run: () => number): number {
  run(); // warm-up pass
  const start = process.hrtime.bigint();
  const check = run();
  const ns = Number(process.hrtime.bigint() - start);
  const perSecond = (N / ns) * 1e9;
  console.log(`${label.padEnd(48)} ${(ns / N).toFixed(2).padStart(7)} ns/put  ${(perSecond / 1e6).toFixed(1).padStart(7)} M puts/s  (check ${check})`);
  return ns / N;
}

const none = createMetricsRecorder({ level: 'none', granularity: 'shard', now });
const detailed = createMetricsRecorder({ level: 'detailed', granularity: 'shard', now });
const summary = createMetricsRecorder({ level: 'summary', granularity: 'shard', now });
const withListener = createMetricsRecorder({ level: 'detailed', granularity: 'shard', now });
let samples = 0;
withListener.addSampleListener(() => {
  samples++;
});

console.log(`metrics: ${N.toLocaleString('en')} puts per run, 4 names × 2 streams × 4 shards`);
const floor = time('bare loop (floor)', () => bare(N));
const nonePut = time("put() at level 'none'", () => puts(none, N));
const summaryPut = time("put() at 'summary', shard granularity", () => puts(summary, N));
const detailedPut = time("put() at 'detailed', shard granularity", () => puts(detailed, N));
const listenerPut = time("put() at 'detailed', shard, 1 sample listener", () => puts(withListener, N));

console.log(`\nlevel 'none' over the bare loop: +${(nonePut - floor).toFixed(2)} ns/put (ratio ${(nonePut / floor).toFixed(2)}×)`);
console.log(`'detailed'/shard: ${(1e3 / detailedPut).toFixed(1)} M puts/s, ${detailed.seriesCount} series`);
console.log(`'summary' (UserRecordsDataPut, 1 name in 4, dropped by the level filter): ${(1e3 / summaryPut).toFixed(1)} M puts/s`);
console.log(`sample listener overhead: +${(listenerPut - detailedPut).toFixed(1)} ns/put (${samples} samples)`);
