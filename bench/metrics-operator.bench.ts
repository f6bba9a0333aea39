/**
 * What metrics cost on the operator path (issue 10, kpl.md §9): the whole `kinesisProducer`
 * operator — predict, aggregate, limit, collect, PutRecords, classify — against an in-process
 * client that answers at once (no SDK serialisation, no sockets: the producer's own CPU is all that
 * is measured), with `metricsLevel` `'none'` and `'detailed'` (shard granularity) in alternating
 * rounds of the same run. Target: `detailed` costs ≤ 15 % of the `none` throughput.
 *
 * Then it shows that `'none'` does no metric work per record: a CPU profile and a sampling heap
 * profile of one round at each level, counting the samples and allocated bytes whose stack has a
 * frame in `lib/metrics/`, `lib/producer/pipeline-metrics.ts` or the stream pipeline's metrics
 * wrapper `onResult` (0 at `none`). Wall-clock rates on a shared machine are noisy: the cost is
 * printed by median rounds, by best rounds, and by CPU time per record.
 *
 * ```text
 * node -r ts-node/register/transpile-only bench/metrics-operator.bench.ts [records=200000] [rounds=7]
 * ```
 */
import { Session } from 'node:inspector';
import { from, lastValueFrom, reduce } from 'rxjs';
import { kinesisProducer } from '../lib/producer/kinesis-producer';
import { instantKinesisClient, workloadRecords } from './in-memory-kinesis';
import type { MetricsLevel } from '../lib/config';

const N = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 7);
const SHARDS = 64;
const KEYS = 1000;
const BYTES = 100;
const TARGET = 0.15;

const records = workloadRecords(N, KEYS, BYTES);

interface Round {
  readonly seconds: number;
  /** CPU seconds (user + system) of the process during the round. */
  readonly cpu: number;
  readonly ok: number;
  readonly series: number;
}

async function round(level: MetricsLevel): Promise<Round> {
  const producer = kinesisProducer({
    client: instantKinesisClient(SHARDS),
    streamName: 'bench',
    metricsLevel: level,
    metricsGranularity: 'shard',
    overflow: 'buffer',
    // The limiter's per-shard budget would make this a bench of the token buckets: lift it.
    rateLimit: 1000,
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const ok = await lastValueFrom(from(records).pipe(producer, reduce((n, r) => n + (r.success ? 1 : 0), 0)));
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(cpu0);
  return { seconds, cpu: (c.user + c.system) / 1e6, ok, series: producer.metrics.seriesCount };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
  children?: number[];
  selfSize?: number;
}

const isMetricsFrame = (url: string): boolean => /lib\/metrics\/|lib\/producer\/pipeline-metrics\.ts/.test(url);
// The stream pipeline's `onResult` is the metrics wrapper (at 'none' it is not installed); V8 inlines
// recordResultMetrics and the recorder into it, so its *self* time is metric work too (not its
// subtree: it goes on to deliver the result downstream).
const isMetricsWrapper = (node: ProfileNode): boolean =>
  node.callFrame.url.endsWith('lib/producer/stream-pipeline.ts') && node.callFrame.functionName === 'onResult';

/** Fraction of CPU samples and bytes allocated with a metrics frame on the stack, for one round. */
async function profiled(level: MetricsLevel): Promise<{ cpuSamples: number; metricsSamples: number; bytes: number; metricsBytes: number }> {
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params?: object): Promise<T> =>
    new Promise((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', { samplingInterval: 4096 });
  await post('Profiler.start');
  await round(level);
  const { profile } = await post<{ profile: { nodes: ProfileNode[]; samples: number[] } }>('Profiler.stop');
  const heap = await post<{ profile: { head: ProfileNode & { children: ProfileNode[] } } }>('HeapProfiler.stopSampling');
  session.disconnect();

  // CPU: a sample counts as metrics work if any frame from it to the root is a metrics frame.
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const c of node.children ?? []) parent.set(c, node.id);
  }
  const inMetrics = new Map<number, boolean>();
  const under = (id: number): boolean => {
    const known = inMetrics.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    const p = parent.get(id);
    const v = (node !== undefined && isMetricsFrame(node.callFrame.url)) || (p !== undefined && under(p));
    inMetrics.set(id, v);
    return v;
  };
  const metricsSamples = profile.samples.filter((id) => under(id) || isMetricsWrapper(byId.get(id) as ProfileNode)).length;

  // Heap: bytes allocated (sampled) in a subtree that has a metrics frame.
  let bytes = 0;
  let metricsBytes = 0;
  const walk = (node: ProfileNode & { children?: unknown }, inside: boolean): void => {
    const here = inside || isMetricsFrame(node.callFrame.url);
    bytes += node.selfSize ?? 0;
    if (here) metricsBytes += node.selfSize ?? 0;
    for (const child of (node.children ?? []) as unknown as ProfileNode[]) walk(child, here);
  };
  walk(heap.profile.head, false);
  return { cpuSamples: profile.samples.length, metricsSamples, bytes, metricsBytes };
}

async function main(): Promise<void> {
  console.log(
    `metrics on the operator path: ${N.toLocaleString('en-US')} records × ${BYTES} B, ${KEYS} keys, ${SHARDS} shards, ` +
      `in-process client; ${ROUNDS} alternating rounds per level (after one warm-up each)`,
  );
  await round('none');
  await round('detailed');
  const rate: Record<'none' | 'detailed', number[]> = { none: [], detailed: [] };
  const cpuPerRecord: Record<'none' | 'detailed', number[]> = { none: [], detailed: [] };
  let series = 0;
  for (let i = 0; i < ROUNDS; i++) {
    for (const level of i % 2 === 0 ? (['none', 'detailed'] as const) : (['detailed', 'none'] as const)) {
      const r = await round(level);
      if (r.ok !== N) throw new Error(`${level}: ${r.ok} of ${N} succeeded`);
      rate[level].push(N / r.seconds);
      cpuPerRecord[level].push((r.cpu * 1e6) / N);
      if (level === 'detailed') series = r.series;
    }
  }
  const none = median(rate.none);
  const detailed = median(rate.detailed);
  const cost = 1 - detailed / none;
  const bestCost = 1 - Math.max(...rate.detailed) / Math.max(...rate.none);
  const cpuNone = median(cpuPerRecord.none);
  const cpuDetailed = median(cpuPerRecord.detailed);
  const cpuCost = 1 - cpuNone / cpuDetailed; // the throughput lost if CPU is the bound
  const cpuBestCost = 1 - Math.min(...cpuPerRecord.none) / Math.min(...cpuPerRecord.detailed);
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  const us = (x: number): string => x.toFixed(2);
  console.log(
    `none:     ${fmt(none)} records/s median (best ${fmt(Math.max(...rate.none))}; rounds ${rate.none.map(fmt).join(', ')}), ` +
      `${us(cpuNone)} µs CPU/record (least ${us(Math.min(...cpuPerRecord.none))})`,
  );
  console.log(
    `detailed: ${fmt(detailed)} records/s median (best ${fmt(Math.max(...rate.detailed))}; rounds ${rate.detailed.map(fmt).join(', ')}), ${us(cpuDetailed)} µs CPU/record (least ${us(Math.min(...cpuPerRecord.detailed))}), ${series} series`,
  );
  const verdict = (x: number): string => (x <= TARGET ? 'MET' : 'NOT MET');
  console.log(`detailed costs (target ≤ ${TARGET * 100} %) of the none throughput:`);
  console.log(`  by median rate ${(cost * 100).toFixed(1)} % ${verdict(cost)}; by best rate ${(bestCost * 100).toFixed(1)} % ${verdict(bestCost)}`);
  console.log(
    `  by median CPU/record ${(cpuCost * 100).toFixed(1)} % ${verdict(cpuCost)}; by least CPU/record ${(cpuBestCost * 100).toFixed(1)} % ${verdict(cpuBestCost)}` +
      ' (best-of figures are the steadiest on a shared machine)',
  );

  for (const level of ['none', 'detailed'] as const) {
    const p = await profiled(level);
    console.log(
      `profile at ${level.padEnd(8)}: ${p.metricsSamples} of ${p.cpuSamples} CPU samples (${((100 * p.metricsSamples) / p.cpuSamples).toFixed(1)} %) ` +
        `and ${(p.metricsBytes / 1024).toFixed(0)} KiB of ${(p.bytes / 1024).toFixed(0)} KiB sampled allocations ` +
        `(${((100 * p.metricsBytes) / Math.max(1, p.bytes)).toFixed(1)} %) under lib/metrics or pipeline-metrics`,
    );
  }
}

void main();
