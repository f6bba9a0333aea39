/** Deterministic record builders for the rxkpl/testing specs. */
import { PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';

/** `count` entries `pk-<i>` with data `record-<i>` (UTF-8). */
export function testingEntries(count: number, prefix = 'pk'): PutRecordsRequestEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    PartitionKey: `${prefix}-${i}`,
    Data: new TextEncoder().encode(`record-${i}`),
  }));
}

/** PutRecords of `entries` to `streamName`. */
export function testingPut(client: KinesisClient, streamName: string, entries: PutRecordsRequestEntry[]) {
  return client.send(new PutRecordsCommand({ StreamName: streamName, Records: entries }));
}

/** The shard whose [start, end] holds `key`, from ListShards-shaped shards. */
export function testingShardFor(
  shards: readonly { ShardId?: string; HashKeyRange?: { StartingHashKey?: string; EndingHashKey?: string }; SequenceNumberRange?: { EndingSequenceNumber?: string } }[],
  key: bigint,
): string | undefined {
  return shards.find(
    (s) =>
      s.SequenceNumberRange?.EndingSequenceNumber === undefined &&
      BigInt(s.HashKeyRange?.StartingHashKey ?? '-1') <= key &&
      key <= BigInt(s.HashKeyRange?.EndingHashKey ?? '-1'),
  )?.ShardId;
}
