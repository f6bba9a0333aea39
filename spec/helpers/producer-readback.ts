/**
 * Reads a stream back and checks what a consumer would see: every record once, on the shard whose
 * range holds its hash key, data intact.
 */
import type { EmbeddedKinesis } from '../../lib/testing/embedded-kinesis';
import { decodeAggregated, isAggregated } from '../../lib/codec/aggregation';
import { partitionKeyToHashKey } from '../../lib/codec/hash';

export interface ReadBack {
  /** data text → how many times it was read. */
  readonly seen: Map<string, number>;
  readonly kinesisRecords: number;
  readonly aggregated: number;
  readonly userRecords: number;
  readonly wrongShard: number;
}

export async function readBack(kinesis: EmbeddedKinesis, streamName: string): Promise<ReadBack> {
  const shards = await kinesis.listShards(streamName);
  const ranges = new Map(
    shards.map((s) => [s.ShardId ?? '', [BigInt(s.HashKeyRange?.StartingHashKey ?? '0'), BigInt(s.HashKeyRange?.EndingHashKey ?? '0')]]),
  );
  const seen = new Map<string, number>();
  const decoder = new TextDecoder();
  let kinesisRecords = 0;
  let aggregated = 0;
  let userRecords = 0;
  let wrongShard = 0;
  for (const { shardId, records } of await kinesis.readAll(streamName)) {
    const [lo, hi] = ranges.get(shardId) ?? [0n, -1n];
    for (const r of records) {
      kinesisRecords++;
      const data = r.Data ?? new Uint8Array();
      const subs = isAggregated(data) ? decodeAggregated(data) : [{ partitionKey: r.PartitionKey ?? '', data, explicitHashKey: undefined }];
      if (subs.length > 1) aggregated++;
      for (const sub of subs) {
        userRecords++;
        const key = sub.explicitHashKey !== undefined ? BigInt(sub.explicitHashKey) : partitionKeyToHashKey(sub.partitionKey);
        if (key < lo || key > hi) wrongShard++;
        const text = decoder.decode(sub.data);
        seen.set(text, (seen.get(text) ?? 0) + 1);
      }
    }
  }
  return { seen, kinesisRecords, aggregated, userRecords, wrongShard };
}
