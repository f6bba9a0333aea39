/**
 * {@link startFaultyKinesis} in a child process, for benchmarks: the stub's work (JSON, base64,
 * deaggregation) gets its own event loop instead of competing with the producer under test.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import type { FaultBehaviour, FaultyKinesisOptions, FaultyKinesisStats } from './faulty-kinesis';

/** Options of {@link startFaultyKinesisProcess}: the JSON-serializable part of {@link FaultyKinesisOptions}. */
export interface FaultyKinesisProcessOptions {
  readonly streams: Readonly<Record<string, number>>;
  /** Declarative fields only: functions cannot cross the process boundary. */
  readonly behaviour?: FaultBehaviour;
  /** Keep accepted records in the child (it has no way to hand them back). Default false here. */
  readonly store?: boolean;
  /** How long to wait for `LISTENING`, in ms. Default 20000. */
  readonly startTimeoutMs?: number;
}

/** A stub running in a child process. */
export interface FaultyKinesisProcess {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The child's counters (`GET /__stats`). */
  stats(): Promise<FaultyKinesisStats>;
  /** Replaces the behaviour (`POST /__behaviour`); declarative fields only. */
  setBehaviour(behaviour: FaultBehaviour): Promise<void>;
  /** SIGTERM, SIGKILL after 3 s; resolves when the child has exited. Idempotent. */
  close(): Promise<void>;
}

function call(endpoint: string, method: string, urlPath: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${endpoint}${urlPath}`, { method, agent: false, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) reject(new Error(`${method} ${urlPath}: HTTP ${res.statusCode} ${text}`));
        else resolve(text);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The main script and the node arguments to run it: the .js when built, ts-node when running from .ts. */
function entryPoint(): { script: string; execArgv: string[] } {
  const fromSource = __filename.endsWith('.ts');
  const script = path.join(__dirname, fromSource ? 'faulty-kinesis-main.ts' : 'faulty-kinesis-main.js');
  return { script, execArgv: fromSource ? ['-r', require.resolve('ts-node/register/transpile-only')] : [] };
}

/**
 * Starts the fault-injecting stub in a child process and resolves when it listens.
 *
 * ```text
 * startFaultyKinesisProcess(o) ──► spawn node faulty-kinesis-main '<o as JSON>' ──► "LISTENING 41234" ──► { endpoint, stats, close }
 * ```
 *
 * - The child exits when this process closes its stdin (so it never outlives its parent), on
 *   `close()`, or on SIGTERM.
 * - Build the producer's client yourself (e.g. {@link createKinesisClient} with `endpoint`).
 *
 * @example
 * const stub = await startFaultyKinesisProcess({ streams: { bench: 8 } });
 * const client = createKinesisClient({ endpoint: stub.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
 * // … 1M records …
 * console.log((await stub.stats()).userRecords);
 * await stub.close();
 *
 * @param options - streams and declarative behaviour.
 * @returns the running child's handle.
 */
export function startFaultyKinesisProcess(options: FaultyKinesisProcessOptions): Promise<FaultyKinesisProcess> {
  const { startTimeoutMs = 20000, ...stubOptions } = options;
  const { script, execArgv } = entryPoint();
  const child = spawn(process.execPath, [...execArgv, script, JSON.stringify({ store: false, ...stubOptions })], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, FAULTY_KINESIS_PARENT: '1' },
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    resolve();
  }));

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      if (!exited && child.pid !== undefined) {
        const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.kill('SIGTERM');
        await exit;
        clearTimeout(killer);
      }
      child.stdin?.destroy();
      child.stdout?.destroy();
    })());

  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => fail(new Error(`faulty Kinesis process did not print LISTENING within ${startTimeoutMs} ms`)), startTimeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      void close().then(() => reject(err));
    };
    const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      fail(new Error(`faulty Kinesis process exited (code ${code}, signal ${signal}) before listening`));
    child.once('error', fail);
    child.once('exit', onEarlyExit);
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const match = /LISTENING (\d+)/.exec(buffered);
      if (match === null) return;
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      child.off('error', fail);
      child.on('error', () => undefined); // after start, a failed kill is not worth crashing the test process
      child.stdout?.removeAllListeners('data');
      child.stdout?.resume();
      const endpoint = `http://127.0.0.1:${match[1]}`;
      resolve({
        endpoint,
        stats: async () => JSON.parse(await call(endpoint, 'GET', '/__stats')) as FaultyKinesisStats,
        setBehaviour: async (behaviour) => {
          await call(endpoint, 'POST', '/__behaviour', JSON.stringify(behaviour));
        },
        close,
      });
    });
  });
}
