/**
 * The small part of kinesalite 3.x (no type declarations of its own) that rxkpl uses:
 * `require('kinesalite')(options)` returns a plain `http.Server` (or `https.Server` with `ssl`)
 * whose `close()` also closes its in-memory database (node-testing.md §2).
 */
import type { Server } from 'node:http';

/** Options kinesalite's factory takes; every duration is in ms. */
export interface KinesaliteOptions {
  /** Time a new stream stays CREATING. kinesalite's default is 500. */
  createStreamMs?: number;
  /** Time a deleted stream stays DELETING. Default 500. */
  deleteStreamMs?: number;
  /** Time a stream stays UPDATING after SplitShard / MergeShards. Default 500. */
  updateStreamMs?: number;
  /** Open shards allowed in all. Default 10. */
  shardLimit?: number;
  /** Serve HTTPS with kinesalite's self-signed certificate. */
  ssl?: boolean;
  /** Keep data in LevelDB under this directory instead of in memory. */
  path?: string;
}

/** The module's export: a factory of servers. */
export type KinesaliteFactory = (options?: KinesaliteOptions) => Server;
