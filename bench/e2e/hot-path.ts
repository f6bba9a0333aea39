/**
 * The producer's own per-record stages without the SDK or the network: shardPredict →
 * aggregateByShard → rateLimitPerShard → collectBatches over `from(records)` (the e2e workload:
 * 100 B records, 1,000 keys, 256 even shards). Steadier than the e2e run for comparing changes to
 * these stages (no stub, no sockets): prints records/s and CPU µs per record, best of 5.
 * `--keys 1000000` with 1,000,000 records gives every record its own partition key (issue 9's
 * distinct-key case: one md5 and one key-table entry per record).
 *
 * ```text
 * node -r ts-node/register/transpile-only bench/e2e/hot-path.ts [records=1000000] [--keys 1000]
 * ```
 */
import { from, lastValueFrom, count, filter } from 'rxjs';
import { aggregateByShard } from '../../lib/operators/aggregate-by-shard';
import { collectBatches } from '../../lib/operators/collect-batches';
import { rateLimitPerShard } from '../../lib/operators/rate-limit-per-shard';
import { shardPredict, type ShardMapLike } from '../../lib/operators/shard-predict';
import { buildShardTable, lookupShard } from '../../lib/shards/shard-table';
import type { BufferedRecord, KinesisRecord } from '../../lib/records';
import { evenShards } from '../../lib/testing/faulty-kinesis';
import { workloadRecords } from '../in-memory-kinesis';

const args = process.argv.slice(2);
const keysAt = args.indexOf('--keys');
const keys = keysAt >= 0 ? Number(args[keysAt + 1]) : 1000;
const positional = keysAt >= 0 ? args.filter((_, i) => i !== keysAt && i !== keysAt + 1) : args;
const n = Number(positional[0] ?? 1000000);
const bytes = 100;
const table = buildShardTable(evenShards(256));
const shardMap: ShardMapLike = { predictKey: (key) => lookupShard(table, key), failure: undefined };
const records = workloadRecords(n, keys, bytes);

async function once(): Promise<{ seconds: number; cpu: number; batches: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const batches = await lastValueFrom(
    from(records).pipe(
      shardPredict({ shardMap, streamName: 'bench' }),
      filter((x): x is BufferedRecord => !('success' in x)),
      aggregateByShard({}),
      rateLimitPerShard({}),
      filter((x): x is KinesisRecord => !('kind' in x)),
      collectBatches({}),
      count(),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(cpu0);
  return { seconds, cpu: (c.user + c.system) / 1e6, batches };
}

async function main(): Promise<void> {
  const runs = [];
  for (let i = 0; i < 5; i++) runs.push(await once());
  const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  console.log(
    `hot path (predict → aggregate → limit → collect), ${n.toLocaleString('en-US')} × ${bytes} B, ${keys.toLocaleString('en-US')} keys, 256 shards: ` +
      `${Math.round(n / best.seconds).toLocaleString('en-US')} records/s, ${((best.cpu * 1e6) / n).toFixed(2)} µs CPU/record (best of 5; ${best.batches} requests)`,
  );
}
void main();
