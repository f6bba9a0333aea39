/**
 * The end-to-end benchmark (issue 9): rxkpl against the ways Node users write to Kinesis today.
 *
 * One canned-response stub process (bench/e2e/stub.ts: ListShards with N even shards, PutRecords
 * all OK with correct ShardIds, user records counted after deaggregation) and one driver process
 * per contender and run, all on the same workload, run alternately (A B C … A B C …), medians
 * reported. After every run the stub's count of user records must equal the workload: a run that
 * lost (or failed) a record is marked FAIL and the process exits 1.
 *
 * ```text
 * node -r ts-node/register/transpile-only bench/e2e/run.ts [--records 1000000] [--rounds 3] [--keys 1000]
 *      [--bytes 100] [--shards 256] [--only rxkpl-operator,agg-baseline]
 * ```
 * Contenders: rxkpl-operator, rxkpl-class, agg-baseline, naive, writable (skipped when
 * aws-kinesis-writable is not installed; see drivers/writable.ts). References (no producer work in
 * the clock): sdk-floor (pre-aggregated records, bare `client.send`) and send-floor (the same
 * records through rxkpl's `putRecords` operator, whose request body skips the SDK's JS base64).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import type { DriverResult } from './common';
import type { StubStats } from './stub';

/** The last two are references, not contenders: pre-aggregated records sent by the bare SDK / by our `putRecords`. */
export const CONTENDERS = ['rxkpl-operator', 'rxkpl-class', 'agg-baseline', 'naive', 'writable', 'sdk-floor', 'send-floor'] as const;
const BASELINE = 'agg-baseline';

export interface E2eOptions {
  records: number;
  rounds: number;
  keys: number;
  bytes: number;
  shards: number;
  contenders: readonly string[];
}

function parseArgs(argv: readonly string[]): E2eOptions {
  const get = (name: string, fallback: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
  };
  return {
    records: Number(get('records', '1000000')),
    rounds: Number(get('rounds', '3')),
    keys: Number(get('keys', '1000')),
    bytes: Number(get('bytes', '100')),
    shards: Number(get('shards', '256')),
    contenders: get('only', CONTENDERS.join(',')).split(',').filter(Boolean),
  };
}

const tsNode = require.resolve('ts-node/register/transpile-only');

function call(endpoint: string, method: string, urlPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${endpoint}${urlPath}`, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

interface Stub {
  endpoint: string;
  close(): Promise<void>;
}

function startStubProcess(shards: number): Promise<Stub> {
  const child = spawn(process.execPath, ['-r', tsNode, path.join(__dirname, 'stub.ts'), String(shards)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, E2E_STUB_PARENT: '1' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let text = '';
    child.once('exit', (code) => reject(new Error(`stub exited (${code}) before listening`)));
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const m = /LISTENING (\d+)/.exec(text);
      if (m === null) return;
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      resolve({
        endpoint: `http://127.0.0.1:${m[1]}`,
        close: async () => {
          child.kill('SIGTERM');
          child.stdin.end();
          await exited;
        },
      });
    });
  });
}

function runDriverProcess(contender: string, endpoint: string, options: E2eOptions): Promise<DriverResult> {
  const script = path.join(__dirname, 'drivers', `${contender}.ts`);
  const child = spawn(process.execPath, ['--max-old-space-size=4096', '--no-warnings', '-r', tsNode, script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      E2E_ENDPOINT: endpoint,
      E2E_STREAM: 'bench',
      E2E_RECORDS: String(options.records),
      E2E_KEYS: String(options.keys),
      E2E_BYTES: String(options.bytes),
    },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || line === undefined) reject(new Error(`${contender} exited ${code} without a result:\n${out}`));
      else resolve(JSON.parse(line.slice('RESULT '.length)) as DriverResult);
    });
  });
}

export interface Run {
  readonly result: DriverResult;
  readonly stub: StubStats;
  readonly verified: boolean;
  readonly skipped: boolean;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Runs every contender `rounds` times, alternately; returns the runs by contender. */
export async function runE2e(options: E2eOptions, log: (line: string) => void = (l) => console.log(l)): Promise<Map<string, Run[]>> {
  const stub = await startStubProcess(options.shards);
  const runs = new Map<string, Run[]>(options.contenders.map((c) => [c, []]));
  try {
    for (let round = 1; round <= options.rounds; round++) {
      for (const contender of options.contenders) {
        await call(stub.endpoint, 'POST', '/__reset');
        const result = await runDriverProcess(contender, stub.endpoint, options);
        const stats = JSON.parse(await call(stub.endpoint, 'GET', '/__stats')) as StubStats;
        const skipped = result.note?.startsWith('skipped') ?? false;
        const verified =
          skipped ||
          (stats.userRecords === options.records &&
            stats.userBytes === options.records * options.bytes &&
            stats.badChecksums === 0 &&
            stats.errors === 0 &&
            result.succeeded === options.records);
        runs.get(contender)!.push({ result, stub: stats, verified, skipped });
        log(
          skipped
            ? `round ${round} ${contender}: ${result.note}`
            : `round ${round} ${contender.padEnd(15)} ${Math.round(result.recordsPerSecond).toLocaleString('en-US').padStart(9)} rec/s  ` +
                `${result.seconds.toFixed(2)} s  cpu ${result.cpuSeconds.toFixed(1)} s  rss ${Math.round(result.peakRssMiB)} MiB  ` +
                `stub: ${stats.userRecords} user records in ${stats.kinesisRecords} Kinesis records / ${stats.putRecordsRequests} requests, cpu ${stats.cpuSeconds.toFixed(1)} s  ` +
                `${verified ? 'verified' : 'FAIL: records lost or failed'}`,
        );
      }
    }
  } finally {
    await stub.close();
  }
  return runs;
}

/** The summary table: medians per contender, ratio against the hand-written baseline. */
export function table(runs: Map<string, Run[]>): string {
  const baseline = runs.get(BASELINE)?.filter((r) => !r.skipped);
  const baseRate = baseline && baseline.length > 0 ? median(baseline.map((r) => r.result.recordsPerSecond)) : NaN;
  const rows = [
    ['contender', 'records/s', 'vs hand-written', 'p50 ms', 'p99 ms', 'CPU s', 'stub CPU s', 'peak RSS MiB', 'verified'],
  ];
  for (const [contender, list] of runs) {
    const done = list.filter((r) => !r.skipped);
    if (done.length === 0) {
      rows.push([contender, '—', '—', '—', '—', '—', '—', '—', list[0]?.result.note ?? 'not run']);
      continue;
    }
    const rate = median(done.map((r) => r.result.recordsPerSecond));
    rows.push([
      done[0].result.contender,
      Math.round(rate).toLocaleString('en-US'),
      Number.isFinite(baseRate) ? `${(rate / baseRate).toFixed(2)}×` : '—',
      median(done.map((r) => r.result.p50Ms)).toFixed(0),
      median(done.map((r) => r.result.p99Ms)).toFixed(0),
      median(done.map((r) => r.result.cpuSeconds)).toFixed(1),
      median(done.map((r) => r.stub.cpuSeconds)).toFixed(1),
      Math.round(median(done.map((r) => r.result.peakRssMiB))).toString(),
      done.every((r) => r.verified) ? `yes (${done.length}/${done.length})` : `NO (${done.filter((r) => r.verified).length}/${done.length})`,
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}

export function allVerified(runs: Map<string, Run[]>): boolean {
  return [...runs.values()].every((list) => list.every((r) => r.verified));
}

if (require.main === module) {
  const options = parseArgs(process.argv.slice(2));
  console.log(
    `e2e: ${options.records.toLocaleString('en-US')} records × ${options.bytes} B, ${options.keys} keys, ${options.shards} shards, ` +
      `${options.rounds} round(s), alternating ${options.contenders.join(' ')}; medians`,
  );
  runE2e(options)
    .then((runs) => {
      console.log(`\n${table(runs)}`);
      console.log('\ntarget (issue 9): rxkpl ≥ 4× the hand-written baseline (~800k records/s), stretch 1M records/s');
      process.exitCode = allVerified(runs) ? 0 : 1;
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
