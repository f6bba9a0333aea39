/**
 * The two reference drivers' preparation (sdk-floor.ts, send-floor.ts), done before their clock
 * starts: every workload record aggregated per predicted shard into 51,200-byte aggregated records
 * (our encoder), one PutRecords entry each. Both references send exactly these entries, byte for byte.
 */
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { AggregateBuilder } from '../../../lib/codec/aggregation';
import { hashKeyOfPartitionKey, hashKeyToDecimal } from '../../../lib/codec/hash';
import { buildShardTable, lookupShard } from '../../../lib/shards/shard-table';
import { benchClient, type Workload } from '../common';
import type { Entry } from './sender';

interface Open {
  readonly builder: AggregateBuilder;
  readonly seqs: number[];
  readonly ehk: string;
}

/** Lists the stub's shards, then aggregates the workload per predicted shard. */
export async function preAggregate(workload: Workload): Promise<Entry[]> {
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
  const open = new Map<string, Open>();
  const entries: Entry[] = [];
  const close = (o: Open): void => {
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
}
