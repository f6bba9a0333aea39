/**
 * Deadline lateness (issue 9): records arrive at 100,000 records/s (1,000 every 10 ms, 100 B,
 * 1,000 keys, 64 shards) for 5 s with recordMaxBufferedTimeMs 100, through the pipeline's own stages
 * (shardPredict → aggregateByShard → rateLimitPerShard → collectBatches, real asyncScheduler, no
 * network). For every Kinesis record handed on by collectBatches (what putRecords sends at once):
 *
 * - lateness = hand-off time − the deadline the collector holds (the aggregate's earliest deadline,
 *   extended on entry to ≥ now + min(50 ms, 0.2 × recordMaxBufferedTimeMs), kpl.md §5 / KPL #280);
 * - and, for the record, hand-off time − its first user record's own deadline (arrival + 100 ms), which
 *   includes that deliberate extension.
 *
 * Negative means early (the batch filled up before its deadline). Target: p99 lateness ≤ 5 ms.
 *
 * ```text
 * node -r ts-node/register/transpile-only bench/lateness.bench.ts [seconds=5]
 * ```
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { filter, interval, lastValueFrom, map, mergeMap, range, take, tap } from 'rxjs';
import { aggregateByShard } from '../lib/operators/aggregate-by-shard';
import { collectBatches } from '../lib/operators/collect-batches';
import { rateLimitPerShard } from '../lib/operators/rate-limit-per-shard';
import { shardPredict, type ShardMapLike } from '../lib/operators/shard-predict';
import type { BufferedRecord, KinesisRecord, UserRecord } from '../lib/records';
import { buildShardTable, lookupShard } from '../lib/shards/shard-table';
import { evenShards } from '../lib/testing/faulty-kinesis';

const seconds = Number(process.argv[2] ?? 5);
const PER_TICK = 1000;
const TICK_MS = 10;
const MAX_BUFFERED_MS = 100;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const table = buildShardTable(evenShards(64));
  const shardMap: ShardMapLike = { predictKey: (key) => lookupShard(table, key), failure: undefined };
  const data = new Uint8Array(100).fill(0x61);
  const pks = Array.from({ length: 1000 }, (_, i) => `partition-key-${String(i).padStart(6, '0')}`);
  const ticks = Math.round((seconds * 1000) / TICK_MS);
  let i = 0;
  const lateness: number[] = [];
  const sinceFirstDeadline: number[] = [];
  let userRecords = 0;
  const config = { recordMaxBufferedTimeMs: MAX_BUFFERED_MS };

  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  await lastValueFrom(
    interval(TICK_MS).pipe(
      take(ticks),
      mergeMap(() => range(0, PER_TICK).pipe(map((): UserRecord => ({ partitionKey: pks[i++ % pks.length], data })))),
      shardPredict({ ...config, shardMap, streamName: 'bench' }),
      filter((x): x is BufferedRecord => !('success' in x)),
      aggregateByShard({}),
      rateLimitPerShard({}),
      filter((x): x is KinesisRecord => !('kind' in x)),
      collectBatches(config),
      tap((batch) => {
        const now = Date.now();
        for (const kr of batch.records) {
          lateness.push(now - kr.deadline);
          let first = Infinity;
          for (const r of kr.records) first = Math.min(first, r.deadline);
          sinceFirstDeadline.push(now - first);
          userRecords += kr.records.length;
        }
      }),
    ),
    { defaultValue: undefined },
  );

  loopDelay.disable();
  lateness.sort((a, b) => a - b);
  sinceFirstDeadline.sort((a, b) => a - b);
  const fmt = (xs: number[]): string =>
    `p50 ${percentile(xs, 50)} ms, p99 ${percentile(xs, 99)} ms, max ${xs[xs.length - 1]} ms`;
  console.log(
    `lateness at ${((PER_TICK * 1000) / TICK_MS).toLocaleString('en-US')} records/s for ${seconds} s, recordMaxBufferedTimeMs ${MAX_BUFFERED_MS}: ` +
      `${userRecords.toLocaleString('en-US')} user records in ${lateness.length.toLocaleString('en-US')} Kinesis records`,
  );
  console.log(`  hand-off − collector deadline:        ${fmt(lateness)}   (target p99 ≤ 5 ms)`);
  console.log(`  hand-off − first record's own deadline: ${fmt(sinceFirstDeadline)}   (includes the #280 extension of ≤ 20 ms)`);
  console.log(
    `  event-loop delay (what a timer can be late by): p50 ${(loopDelay.percentile(50) / 1e6).toFixed(1)} ms, ` +
      `p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms`,
  );
  if (userRecords !== ticks * PER_TICK) {
    console.log(`FAIL: ${userRecords} user records handed on, ${ticks * PER_TICK} put`);
    process.exitCode = 1;
  }
}

void main();
