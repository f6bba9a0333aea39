/**
 * rxkpl's own cost per record, end to end but without the SDK and the network: `kinesisProducer`
 * over `from(records)` (the e2e workload: 100 B, 1,000 keys, 256 even shards) with an in-memory
 * client whose `send` answers at once (ListShards: the even shards; PutRecords: every entry OK on
 * the shard its ExplicitHashKey names). What is left is prediction, aggregation (MD5 included),
 * limiting, batching, result building, the producer's bookkeeping and the rxjs plumbing.
 *
 * ```text
 * node -r ts-node/register/transpile-only bench/e2e/producer-overhead.ts [records=1000000]
 * ```
 */
import { count, from, lastValueFrom } from 'rxjs';
import { kinesisProducer } from '../../lib/producer/kinesis-producer';
import { KinesisProducer } from '../../lib/producer/kinesis-producer-class';
import { instantKinesisClient, workloadRecords } from '../in-memory-kinesis';

const n = Number(process.argv[2] ?? 1000000);
const mode = process.argv[3] ?? 'operator';
if (mode !== 'operator' && mode !== 'class') throw new Error(`mode ${mode}: operator or class`);
const keys = 1000;
const bytes = 100;
const client = instantKinesisClient(256);
const records = workloadRecords(n, keys, bytes);

async function viaOperator(): Promise<number> {
  return lastValueFrom(from(records).pipe(kinesisProducer({ client, streamName: 'bench', overflow: 'buffer' }), count()));
}

async function viaClass(): Promise<number> {
  const producer = new KinesisProducer({ client, streamName: 'bench' });
  let results = 0;
  const done = (): void => {
    results++;
  };
  for (let i = 0; i < n; i++) {
    void producer.put(records[i]).then(done);
    if (i % 1000 === 999) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await producer.close();
  return results;
}

async function once(): Promise<{ seconds: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const results = await (mode === 'class' ? viaClass() : viaOperator());
  if (results !== n) throw new Error(`${results} results for ${n} records`);
  const c = process.cpuUsage(cpu0);
  return { seconds: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

async function main(): Promise<void> {
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await once());
  const best = runs.reduce((a, b) => (b.cpu < a.cpu ? b : a));
  console.log(
    `${mode === 'class' ? 'KinesisProducer.put' : 'kinesisProducer'} without SDK/network, ${n.toLocaleString('en-US')} × ${bytes} B, ${keys} keys, 256 shards: ` +
      `${Math.round(n / best.seconds).toLocaleString('en-US')} records/s wall, ${((best.cpu * 1e6) / n).toFixed(2)} µs CPU/record (best of 3)`,
  );
}
void main();
