/**
 * What the no-network benchmarks share (bench/e2e/producer-overhead.ts, bench/e2e/hot-path.ts,
 * bench/metrics-operator.bench.ts): a Kinesis client that answers at once, in memory, and the e2e
 * workload's records (100 B by default, partition keys `partition-key-000123` round-robin).
 */
import { ListShardsCommand, PutRecordsCommand, type KinesisClient, type PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import { bigIntToHashKey, parseExplicitHashKey } from '../lib/codec/hash';
import type { UserRecord } from '../lib/records';
import { buildShardTable, lookupShard } from '../lib/shards/shard-table';
import { evenShards } from '../lib/testing/faulty-kinesis';

/**
 * A client whose `send` answers ListShards with `shardCount` even shards, and every PutRecords
 * entry with success on the shard that owns its ExplicitHashKey (every entry the producer sends has
 * one). No SDK serialization, no sockets: what is left to measure is the producer's own CPU.
 */
export function instantKinesisClient(shardCount: number): Pick<KinesisClient, 'send'> {
  const shards = evenShards(shardCount);
  const table = buildShardTable(shards);
  const listShardsAnswer = {
    Shards: shards.map((s) => ({
      ShardId: s.shardId,
      HashKeyRange: { StartingHashKey: s.startingHashKey.toString(), EndingHashKey: s.endingHashKey.toString() },
      SequenceNumberRange: { StartingSequenceNumber: '0' },
    })),
  };
  let sequence = 0;
  const send = (command: unknown): Promise<unknown> => {
    if (command instanceof ListShardsCommand) return Promise.resolve(listShardsAnswer);
    if (command instanceof PutRecordsCommand) {
      const records: PutRecordsResultEntry[] = (command.input.Records ?? []).map((e) => ({
        SequenceNumber: String(++sequence),
        ShardId: lookupShard(table, bigIntToHashKey(parseExplicitHashKey(e.ExplicitHashKey as string) ?? 0n)),
      }));
      return Promise.resolve({ Records: records, FailedRecordCount: 0 });
    }
    return Promise.reject(new Error(`unexpected command ${(command as object).constructor.name}`));
  };
  return { send: send as KinesisClient['send'] };
}

/**
 * `n` records of `bytes` bytes each (views of one buffer, letters), with `keys` distinct 20-character
 * partition keys in round-robin order: the e2e workload without its sequence numbers.
 */
export function workloadRecords(n: number, keys: number, bytes: number): UserRecord[] {
  const pks = Array.from({ length: keys }, (_, i) => `partition-key-${String(i).padStart(6, '0')}`);
  const all = Buffer.allocUnsafe(n * bytes);
  for (let i = 0; i < all.length; i++) all[i] = 0x61 + ((i * 7 + (i >>> 7)) % 26);
  return Array.from({ length: n }, (_, i) => ({ partitionKey: pks[i % keys], data: new Uint8Array(all.buffer, all.byteOffset + i * bytes, bytes) }));
}
