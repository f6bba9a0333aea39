/**
 * What every e2e driver shares: the workload (the same records for every contender), the SDK
 * client, per-record put-to-result latency, and the one JSON line a driver prints for the runner.
 *
 * A driver is a process: `node -r ts-node/register/transpile-only bench/e2e/drivers/<name>.ts`
 * with the environment `E2E_ENDPOINT`, `E2E_STREAM`, `E2E_RECORDS`, `E2E_KEYS`, `E2E_BYTES`. It
 * builds the workload before the clock starts, runs, and prints `RESULT <json>` on stdout.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { createKinesisClient } from '../../lib/producer/create-kinesis-client';

/** One workload record: what every contender is given. `seq` indexes the latency arrays. */
export interface BenchRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array;
  readonly seq: number;
}

export interface Workload {
  readonly endpoint: string;
  readonly streamName: string;
  readonly records: BenchRecord[];
  readonly keys: number;
  readonly bytes: number;
}

/** The figures a driver reports. */
export interface DriverResult {
  readonly contender: string;
  readonly records: number;
  /** Records whose result said success (or, without per-record results, acknowledged by a 200 answer). */
  readonly succeeded: number;
  readonly failed: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** User + system CPU seconds of the driver process during the run. */
  readonly cpuSeconds: number;
  /** Peak RSS of the driver process, in MiB (workload included). */
  readonly peakRssMiB: number;
  readonly note?: string;
}

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : Number(v);
}

/**
 * The records: `n` × `bytes` bytes of data (distinct content per record, views of one buffer), with
 * `keys` distinct 20-character partition keys `partition-key-000123`, in round-robin order.
 */
export function buildWorkload(): Workload {
  const endpoint = process.env['E2E_ENDPOINT'];
  if (endpoint === undefined) throw new Error('E2E_ENDPOINT is not set');
  const n = envNumber('E2E_RECORDS', 1000000);
  const keys = envNumber('E2E_KEYS', 1000);
  const bytes = envNumber('E2E_BYTES', 100);
  const pks = Array.from({ length: keys }, (_, i) => `partition-key-${String(i).padStart(6, '0')}`);
  const all = Buffer.allocUnsafe(n * bytes);
  for (let i = 0; i < all.length; i++) all[i] = 0x61 + ((i * 7 + (i >>> 7)) % 26);
  const records: BenchRecord[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const data = new Uint8Array(all.buffer, all.byteOffset + i * bytes, bytes);
    // The record's index in its first 8 bytes (hex): every record differs.
    const hex = i.toString(16).padStart(8, '0');
    for (let j = 0; j < 8 && j < bytes; j++) data[j] = hex.charCodeAt(j);
    records[i] = { partitionKey: pks[i % keys], data, seq: i };
  }
  return { endpoint, streamName: process.env['E2E_STREAM'] ?? 'bench', records, keys, bytes };
}

/** The SDK v3 client every v3 contender uses: HTTP/1.1 keep-alive (createKinesisClient), dummy credentials. */
export function benchClient(endpoint: string): KinesisClient {
  return createKinesisClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
}

/** Put times and latencies of every record, in ms (performance.now()). */
export class Latencies {
  private readonly putAt: Float64Array;
  private readonly latency: Float64Array;
  private n = 0;
  succeeded = 0;
  failed = 0;

  constructor(records: number) {
    this.putAt = new Float64Array(records);
    this.latency = new Float64Array(records);
  }

  put(seq: number, now: number): void {
    this.putAt[seq] = now;
  }

  done(seq: number, now: number, success: boolean): void {
    this.latency[this.n++] = now - this.putAt[seq];
    if (success) this.succeeded++;
    else this.failed++;
  }

  get count(): number {
    return this.n;
  }

  percentiles(): { p50: number; p99: number } {
    if (this.n === 0) return { p50: NaN, p99: NaN };
    const sorted = this.latency.slice(0, this.n).sort();
    const at = (q: number): number => sorted[Math.min(this.n - 1, Math.floor(q * this.n))];
    return { p50: at(0.5), p99: at(0.99) };
  }
}

/** Measures a run: wall time, CPU and latencies; prints the `RESULT` line. */
export async function runDriver<P = undefined>(
  contender: string,
  run: (workload: Workload, latencies: Latencies, prepared: P) => Promise<{ note?: string } | void>,
  /** Work done before the clock starts (e.g. the SDK floor's pre-built aggregated records). */
  prepare?: (workload: Workload) => Promise<P>,
): Promise<void> {
  const workload = buildWorkload();
  const latencies = new Latencies(workload.records.length);
  const prepared = prepare === undefined ? (undefined as P) : await prepare(workload);
  if (global.gc) global.gc();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const extra = (await run(workload, latencies, prepared)) ?? {};
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const { p50, p99 } = latencies.percentiles();
  const n = workload.records.length;
  const result: DriverResult = {
    contender,
    records: n,
    succeeded: latencies.succeeded,
    failed: latencies.failed,
    seconds,
    recordsPerSecond: n / seconds,
    p50Ms: p50,
    p99Ms: p99,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    ...(extra.note !== undefined ? { note: extra.note } : {}),
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

/** Runs `main` and exits: non-zero (with the stack on stderr) when it throws. */
export function main(fn: () => Promise<void>): void {
  fn().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
