/**
 * An in-process Kinesis for tests and examples: kinesalite on 127.0.0.1, a random port, streams
 * ACTIVE at once (node-testing.md §2: starts in ~0.1 s, ~16k records/s, AWS-like request
 * validation; no UpdateShardCount, no ChildShards, no throttling — use {@link startFaultyKinesis}
 * for throttling and {@link startKinesisLocal} for UpdateShardCount).
 *
 * kinesalite is an optional peer dependency of rxkpl: it is loaded only when this function runs.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { KinesisClient, Shard } from '@aws-sdk/client-kinesis';
import { createKinesisClient } from '../producer/create-kinesis-client';
import type { KinesaliteFactory } from './kinesalite-types';
import * as admin from './stream-admin';
import type { ShardRecords } from './stream-admin';

/** A running local Kinesis with a client pointed at it and helpers to manage streams. */
export interface EmbeddedKinesis {
  /** `http://127.0.0.1:<port>` (or `http://localhost:<port>` for kinesis-local). */
  readonly endpoint: string;
  /** A {@link createKinesisClient} client on `endpoint` with dummy credentials; destroyed by `close()`. */
  readonly client: KinesisClient;
  /** CreateStream with `shardCount` shards; resolves once the stream is ACTIVE. */
  createStream(name: string, shardCount: number): Promise<void>;
  /** Every shard of the stream, open and closed (ListShards, all pages). */
  listShards(name: string): Promise<Shard[]>;
  /** Every record of every shard (open and closed) from TRIM_HORIZON to the end, per shard. */
  readAll(name: string): Promise<ShardRecords[]>;
  /** UpdateShardCount (UNIFORM_SCALING), resolved once ACTIVE. kinesalite has none: rejects there. */
  updateShardCount(name: string, targetShardCount: number): Promise<void>;
  /** SplitShard at `newStartingHashKey`, resolved once ACTIVE. */
  splitShard(name: string, shardId: string, newStartingHashKey: string | bigint): Promise<void>;
  /** MergeShards of two adjacent shards, resolved once ACTIVE. */
  mergeShards(name: string, shardId: string, adjacentShardId: string): Promise<void>;
  /** Destroys the client and stops the server; leaves no open handles. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link startEmbeddedKinesis}. */
export interface EmbeddedKinesisOptions {
  /** How long a new stream stays CREATING, in ms. Default 0. */
  createStreamMs?: number;
  /** The region the client signs for. Default 'us-east-1'. */
  region?: string;
}

/**
 * Dummy credentials: local servers check that they are present, never what they are. A fresh
 * object each time: the SDK writes a `$source` marker into the credentials it is given.
 */
export function localCredentials(): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: 'AKIDLOCAL0000000', secretAccessKey: 'local-secret' };
}

function loadKinesalite(): KinesaliteFactory {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('kinesalite') as KinesaliteFactory;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      throw new Error('install kinesalite to use startEmbeddedKinesis (npm install --save-dev kinesalite)');
    }
    throw err;
  }
}

/**
 * Starts kinesalite in this process on 127.0.0.1 and a free port, with a client pointed at it.
 *
 * ```text
 * startEmbeddedKinesis() ──► { endpoint, client, createStream, …, close }
 * close()                ──► client destroyed, server and its in-memory store closed
 * ```
 *
 * - Data lives in memory only and is gone after `close()`.
 * - `updateShardCount` rejects (kinesalite has no UpdateShardCount); `splitShard`/`mergeShards` work.
 *
 * @example
 * const kinesis = await startEmbeddedKinesis();
 * await kinesis.createStream('test', 4);
 * // … run the producer with { client: kinesis.client, streamName: 'test' } …
 * const perShard = await kinesis.readAll('test');
 * await kinesis.close();
 *
 * @param options - stream creation delay and region.
 * @returns a running server; call `close()` when done.
 * @throws Error when kinesalite is not installed.
 */
export async function startEmbeddedKinesis(options: EmbeddedKinesisOptions = {}): Promise<EmbeddedKinesis> {
  const kinesalite = loadKinesalite();
  const server: Server = kinesalite({
    createStreamMs: options.createStreamMs ?? 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 1000,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = createKinesisClient({ endpoint, region: options.region ?? 'us-east-1', credentials: localCredentials() });

  let closing: Promise<void> | undefined;
  return {
    endpoint,
    client,
    createStream: (name, shardCount) => admin.createStream(client, name, shardCount),
    listShards: (name) => admin.listShards(client, name),
    readAll: (name) => admin.readAll(client, name),
    updateShardCount: () =>
      Promise.reject(new Error('kinesalite has no UpdateShardCount: use splitShard/mergeShards, or startKinesisLocal()')),
    splitShard: (name, shardId, key) => admin.splitShard(client, name, shardId, key),
    mergeShards: (name, shardId, adjacent) => admin.mergeShards(client, name, shardId, adjacent),
    close: () =>
      (closing ??= (async () => {
        client.destroy();
        server.closeAllConnections();
        await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      })()),
  };
}
