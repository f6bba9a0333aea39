/**
 * Baseline: what a Node user writes by hand today — aws-kinesis-agg's `RecordAggregator`, one per
 * shard (shards from ListShards, partition keys hashed with js-md5 `md5.array`, no cache), each
 * closed at 51,200 bytes (the KPL's default aggregationMaxSize) and sent with the first record's
 * hash key as ExplicitHashKey (so it lands on its shard: safe for the KCL); `PutRecordsCommand`
 * batches of ≤ 500 entries, 8 in flight, no retries, no deadlines (flushed when full and at the end).
 */
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { md5 } from 'js-md5';
import { benchClient, main, runDriver } from '../common';
import { Batcher, Sender } from './sender';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const agg = require('aws-kinesis-agg') as {
  RecordAggregator: new () => {
    totalBytes: number;
    calculateUserRecordSize(r: unknown): number;
    addUserRecord(r: unknown): void;
    length(): number;
    build(): { partitionKey: string; data: Buffer; ExplicitHashKey?: string };
  };
};

const MAX_SIZE = 51200;

function toBigInt(key: number[]): bigint {
  let v = 0n;
  for (const b of key) v = (v << 8n) | BigInt(b);
  return v;
}

main(() =>
  runDriver('hand-written aws-kinesis-agg + SDK', async (workload, latencies) => {
    const client = benchClient(workload.endpoint);
    const listed = await client.send(new ListShardsCommand({ StreamName: workload.streamName }));
    const shards = (listed.Shards ?? [])
      .map((s) => ({ id: s.ShardId!, end: BigInt(s.HashKeyRange!.EndingHashKey!) }))
      .sort((a, b) => (a.end < b.end ? -1 : 1));
    // Top 48 bits of each end key, for a number binary search (ties broken with BigInt).
    const ends48 = shards.map((s) => Number(s.end >> 80n));
    const shardOf = (key: number[]): number => {
      const k48 = ((key[0] * 256 + key[1]) * 256 + key[2]) * 16777216 + ((key[3] * 256 + key[4]) * 256 + key[5]);
      let lo = 0;
      let hi = shards.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (ends48[mid] < k48 || (ends48[mid] === k48 && shards[mid].end < toBigInt(key))) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };

    const sender = new Sender(client, workload.streamName, 8, latencies);
    const batcher = new Batcher(sender);
    const open = shards.map(() => ({ aggregator: new agg.RecordAggregator(), seqs: [] as number[], ehk: '' }));
    const close = async (i: number): Promise<void> => {
      const o = open[i];
      if (o.seqs.length === 0) return;
      const built = o.aggregator.build();
      const seqs = o.seqs;
      o.seqs = [];
      await batcher.add({ request: { Data: built.data, PartitionKey: built.partitionKey, ExplicitHashKey: o.ehk }, seqs });
    };
    for (const r of workload.records) {
      latencies.put(r.seq, performance.now());
      const key = md5.array(r.partitionKey);
      const i = shardOf(key);
      const o = open[i];
      const input = { partitionKey: r.partitionKey, data: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.length) };
      if (o.seqs.length > 0 && o.aggregator.totalBytes + o.aggregator.calculateUserRecordSize(input) + 20 > MAX_SIZE) await close(i);
      if (o.seqs.length === 0) o.ehk = toBigInt(key).toString();
      o.aggregator.addUserRecord(input);
      o.seqs.push(r.seq);
    }
    for (let i = 0; i < open.length; i++) await close(i);
    await batcher.flush();
    await sender.idle();
    client.destroy();
    return { note: `${sender.requests} requests` };
  }),
);
