/**
 * Reference, not a contender: the cost of the SDK alone. Every record is aggregated per shard
 * (51,200-byte aggregated records, our encoder) BEFORE the clock starts; the timed part only sends
 * the ready entries as `PutRecordsCommand`s of ≤ 500 entries / 5 MiB, 8 in flight. No producer can
 * beat this with the real SDK client on the same machine: it is the JSON, base64 and SigV4 (SHA-256
 * of the body) work per byte, plus the stub's answers.
 */
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { AggregateBuilder } from '../../../lib/codec/aggregation';
import { hashKeyOfPartitionKey, hashKeyToDecimal } from '../../../lib/codec/hash';
import { buildShardTable, lookupShard } from '../../../lib/shards/shard-table';
import { benchClient, main, runDriver } from '../common';
import { Batcher, Sender, type Entry } from './sender';

main(() =>
  runDriver(
    'SDK floor (pre-aggregated, send only)',
    async (workload, latencies, entries: Entry[]) => {
      const client = benchClient(workload.endpoint);
      const now = performance.now();
      for (const r of workload.records) latencies.put(r.seq, now);
      const sender = new Sender(client, workload.streamName, 8, latencies);
      const batcher = new Batcher(sender);
      for (const e of entries) await batcher.add(e);
      await batcher.flush();
      await sender.idle();
      client.destroy();
      return { note: `${sender.requests} requests` };
    },
    async (workload) => {
      const client = benchClient(workload.endpoint);
      const listed = await client.send(new ListShardsCommand({ StreamName: workload.streamName }));
      client.destroy();
      const table = buildShardTable(
        (listed.Shards ?? []).map((s) => ({
          shardId: s.ShardId!,
          startingHashKey: BigInt(s.HashKeyRange!.StartingHashKey!),
          endingHashKey: BigInt(s.HashKeyRange!.EndingHashKey!),
        })),
      );
      const open = new Map<string, { builder: AggregateBuilder; seqs: number[]; ehk: string }>();
      const entries: Entry[] = [];
      const close = (o: { builder: AggregateBuilder; seqs: number[]; ehk: string }): void => {
        entries.push({ request: { Data: o.builder.encode(), PartitionKey: 'a', ExplicitHashKey: o.ehk }, seqs: o.seqs });
      };
      for (const r of workload.records) {
        const key = hashKeyOfPartitionKey(r.partitionKey);
        const shard = lookupShard(table, key)!;
        let o = open.get(shard);
        if (o !== undefined && o.builder.sizeIfAdded(r.partitionKey, undefined, r.data.length) > 51200) {
          close(o);
          o = undefined;
        }
        if (o === undefined) {
          o = { builder: new AggregateBuilder(), seqs: [], ehk: hashKeyToDecimal(key) };
          open.set(shard, o);
        }
        o.builder.add(r.partitionKey, undefined, r.data);
        o.seqs.push(r.seq);
      }
      for (const o of open.values()) close(o);
      return entries;
    },
  ),
);
