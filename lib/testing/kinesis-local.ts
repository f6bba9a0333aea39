/**
 * kinesis-local (the npm build of etspaceman/kinesis-mock) as a child process: slower than
 * kinesalite (~1.5k records/s, 0.6–0.9 s to start) but it has UpdateShardCount and ChildShards,
 * so it is the conformance target for resharding (node-testing.md §1).
 *
 * Its quirks, handled here: it binds all interfaces and reports port 0 literally, so we choose free
 * ports ourselves; it crashes unless `KINESIS_MOCK_CERT_PATH` points at its `server.json`; it says
 * nothing useful on stdout unless `LOG_LEVEL=INFO`, so readiness is "the TCP port accepts".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createKinesisClient } from '../producer/create-kinesis-client';
import { localCredentials, type EmbeddedKinesis } from './embedded-kinesis';
import { freePort, waitForPort } from './free-port';
import * as admin from './stream-admin';

/** Options of {@link startKinesisLocal}. */
export interface KinesisLocalOptions {
  /** Every `*_DURATION` (CreateStream, UpdateShardCount, SplitShard …), in ms. Default 0. */
  operationDurationMs?: number;
  /** Open shards allowed (`SHARD_LIMIT`). Default 1000. */
  shardLimit?: number;
  /** Region of the server and the client. Default 'us-east-1'. */
  region?: string;
  /** How long to wait for the port to accept, in ms. Default 20000. */
  startTimeoutMs?: number;
  /** Where the child's stdout/stderr go: 'ignore' (default) or 'inherit' (for debugging). */
  stdio?: 'ignore' | 'inherit';
}

const DURATION_VARIABLES = [
  'CREATE_STREAM_DURATION',
  'DELETE_STREAM_DURATION',
  'SPLIT_SHARD_DURATION',
  'MERGE_SHARDS_DURATION',
  'UPDATE_SHARD_COUNT_DURATION',
  'UPDATE_STREAM_MODE_DURATION',
  'REGISTER_STREAM_CONSUMER_DURATION',
  'DEREGISTER_STREAM_CONSUMER_DURATION',
  'START_STREAM_ENCRYPTION_DURATION',
  'STOP_STREAM_ENCRYPTION_DURATION',
] as const;

function resolvePackageDir(): string {
  try {
    return path.dirname(require.resolve('kinesis-local/package.json'));
  } catch {
    throw new Error('install kinesis-local to use startKinesisLocal (npm install --save-dev kinesis-local)');
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts kinesis-local as a child process on free ports, with a client pointed at it.
 *
 * ```text
 * startKinesisLocal() ──► spawn node kinesis-local/main.js ──► port accepts ──► { endpoint, client, … }
 * close()             ──► client destroyed ──► SIGTERM (SIGKILL after 3 s) ──► child exited
 * ```
 *
 * - The server listens on all interfaces (it has no host setting); the client uses 127.0.0.1.
 * - Every operation duration is 0 ms by default, so streams are ACTIVE at once.
 *
 * @example
 * const kinesis = await startKinesisLocal();
 * await kinesis.createStream('s', 4);
 * await kinesis.updateShardCount('s', 8);
 * await kinesis.close();
 *
 * @param options - durations, shard limit, region, start timeout.
 * @returns a running server; call `close()` when done.
 * @throws Error when kinesis-local is not installed, exits early, or does not start in time.
 */
export async function startKinesisLocal(options: KinesisLocalOptions = {}): Promise<EmbeddedKinesis> {
  const dir = resolvePackageDir();
  const region = options.region ?? 'us-east-1';
  const duration = `${options.operationDurationMs ?? 0}ms`;
  const plainPort = await freePort();
  let tlsPort = await freePort();
  while (tlsPort === plainPort) tlsPort = await freePort();

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KINESIS_MOCK_PLAIN_PORT: String(plainPort),
    KINESIS_MOCK_TLS_PORT: String(tlsPort),
    KINESIS_MOCK_CERT_PATH: path.join(dir, 'server.json'),
    SHARD_LIMIT: String(options.shardLimit ?? 1000),
    AWS_REGION: region,
    LOG_LEVEL: 'INFO',
  };
  for (const name of DURATION_VARIABLES) env[name] = duration;

  const child = spawn(process.execPath, [path.join(dir, 'main.js')], { cwd: dir, env, stdio: ['ignore', options.stdio ?? 'ignore', options.stdio ?? 'ignore'] });
  let exitReason: string | undefined;
  child.once('exit', (code, signal) => {
    exitReason = `kinesis-local exited (code ${code}, signal ${signal}) before it accepted connections on port ${plainPort}`;
  });
  child.once('error', (err) => {
    exitReason = `kinesis-local could not start: ${err.message}`;
  });

  try {
    await waitForPort('127.0.0.1', plainPort, options.startTimeoutMs ?? 20000, () => exitReason);
  } catch (err) {
    await stopChild(child, 3000);
    throw err;
  }

  const endpoint = `http://127.0.0.1:${plainPort}`;
  const client = createKinesisClient({ endpoint, region, credentials: localCredentials() });
  let closing: Promise<void> | undefined;
  return {
    endpoint,
    client,
    createStream: (name, shardCount) => admin.createStream(client, name, shardCount),
    listShards: (name) => admin.listShards(client, name),
    readAll: (name) => admin.readAll(client, name),
    updateShardCount: (name, target) => admin.updateShardCount(client, name, target),
    splitShard: (name, shardId, key) => admin.splitShard(client, name, shardId, key),
    mergeShards: (name, shardId, adjacent) => admin.mergeShards(client, name, shardId, adjacent),
    close: () =>
      (closing ??= (async () => {
        client.destroy();
        await stopChild(child, 3000);
      })()),
  };
}
