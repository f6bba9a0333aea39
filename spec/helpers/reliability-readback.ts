/**
 * Read-back for the reliability tests: every shard of a stream (closed parents and open children),
 * reached by following ChildShards from the shards without a listed parent, each read to its end
 * (NextShardIterator absent for a closed shard, the first empty page for an open one), then seen
 * the way a KCL consumer sees it (kpl.md §13, first bullet): an aggregated record with any
 * sub-record outside the range of the shard it was stored on is dropped whole.
 *
 * The KCL view is computed twice, independently: with this library's `deaggregate({ shardRange })`
 * and with aws-kinesis-agg's `deaggregateSync` plus our own range check, so the two can be compared.
 */
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient, type _Record } from '@aws-sdk/client-kinesis';
import { from, lastValueFrom, toArray } from 'rxjs';
import { partitionKeyToHashKey } from '../../lib/codec/hash';
import { isAggregated } from '../../lib/codec/aggregation-format';
import { deaggregate, type DeaggregatedRecord } from '../../lib/consumer/deaggregate';
import { listShards } from '../../lib/testing/stream-admin';
import { aggDecode } from './codec-agg';

/** One shard read to its end. */
export interface ReadShard {
  readonly shardId: string;
  readonly parentShardId: string | undefined;
  readonly adjacentParentShardId: string | undefined;
  readonly startingHashKey: bigint;
  readonly endingHashKey: bigint;
  /** True when GetRecords ended with no NextShardIterator (a closed shard read to its end). */
  readonly closed: boolean;
  /** The ChildShards the last GetRecords of a closed shard named. */
  readonly childShardIds: readonly string[];
  readonly records: readonly _Record[];
}

/** Every shard of a stream, reached through ChildShards; `unreached` lists ListShards ids never reached that way. */
export interface StreamReadBack {
  readonly shards: readonly ReadShard[];
  readonly unreached: readonly string[];
}

type Sender = Pick<KinesisClient, 'send'>;

async function readShard(client: Sender, streamName: string, shardId: string): Promise<{ records: _Record[]; closed: boolean; children: string[] }> {
  const records: _Record[] = [];
  const start = await client.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }));
  let iterator = start.ShardIterator;
  for (let calls = 0; calls < 100000; calls++) {
    if (iterator === undefined) throw new Error(`no iterator for ${shardId}`);
    const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10000 }));
    const got = page.Records ?? [];
    records.push(...got);
    if (page.NextShardIterator === undefined || page.NextShardIterator === null) {
      return { records, closed: true, children: (page.ChildShards ?? []).map((c) => c.ShardId as string) };
    }
    if (got.length === 0) return { records, closed: false, children: [] }; // an open shard's end (local servers answer at once)
    iterator = page.NextShardIterator;
  }
  throw new Error(`${shardId} did not end`);
}

/**
 * Reads every shard: starts from the shards whose parent is not listed, follows the ChildShards of
 * each closed shard, and reports any listed shard the walk did not reach.
 */
export async function readStream(client: Sender, streamName: string): Promise<StreamReadBack> {
  const listed = await listShards(client, streamName);
  const byId = new Map(listed.map((s) => [s.ShardId as string, s]));
  const queue = listed
    .filter((s) => (s.ParentShardId === undefined || !byId.has(s.ParentShardId)) && (s.AdjacentParentShardId === undefined || !byId.has(s.AdjacentParentShardId)))
    .map((s) => s.ShardId as string);
  const seen = new Set<string>(queue);
  const shards: ReadShard[] = [];
  while (queue.length > 0) {
    const shardId = queue.shift() as string;
    const meta = byId.get(shardId);
    if (meta === undefined) throw new Error(`ChildShards named ${shardId}, which ListShards does not list`);
    const { records, closed, children } = await readShard(client, streamName, shardId);
    shards.push({
      shardId,
      parentShardId: meta.ParentShardId,
      adjacentParentShardId: meta.AdjacentParentShardId,
      startingHashKey: BigInt(meta.HashKeyRange?.StartingHashKey ?? '0'),
      endingHashKey: BigInt(meta.HashKeyRange?.EndingHashKey ?? '0'),
      closed,
      childShardIds: children,
      records,
    });
    for (const child of children) {
      if (!seen.has(child)) {
        seen.add(child);
        queue.push(child);
      }
    }
  }
  return { shards, unreached: [...byId.keys()].filter((id) => !seen.has(id)) };
}

/** What a KCL consumer sees of a stream, as data texts. */
export interface KclView {
  /** data text → times a KCL consumer would deliver it. */
  readonly kept: Map<string, number>;
  /** data text → times it was inside an aggregated record the KCL drops (straddling). */
  readonly droppedSubRecords: Map<string, number>;
  /** Aggregated records dropped whole. */
  readonly droppedAggregated: number;
  readonly kinesisRecords: number;
  readonly aggregatedRecords: number;
  readonly plainRecords: number;
}

const decoder = new TextDecoder();

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** The KCL view through this library's `deaggregate({ shardRange, onDropped })`. */
export async function kclViewWithDeaggregate(read: StreamReadBack): Promise<KclView> {
  const kept = new Map<string, number>();
  const droppedSubRecords = new Map<string, number>();
  let droppedAggregated = 0;
  let kinesisRecords = 0;
  let aggregatedRecords = 0;
  for (const shard of read.shards) {
    kinesisRecords += shard.records.length;
    aggregatedRecords += shard.records.filter((r) => isAggregated(r.Data ?? new Uint8Array())).length;
    const out: DeaggregatedRecord[] = await lastValueFrom(
      from(shard.records).pipe(
        deaggregate({
          shardRange: { startingHashKey: shard.startingHashKey, endingHashKey: shard.endingHashKey },
          onDropped: (subs) => {
            droppedAggregated++;
            for (const s of subs) bump(droppedSubRecords, decoder.decode(s.data));
          },
        }),
        toArray(),
      ),
    );
    for (const r of out) bump(kept, decoder.decode(r.data));
  }
  return { kept, droppedSubRecords, droppedAggregated, kinesisRecords, aggregatedRecords, plainRecords: kinesisRecords - aggregatedRecords };
}

/**
 * The KCL view through aws-kinesis-agg: `deaggregateSync` (checksums on), then the KCL's range rule
 * applied here. aws-kinesis-agg fills `ExplicitPartitionKey` from the table's entry 0 even for a
 * sub-record without one (node-testing.md §3); the reliability records carry no explicit hash key,
 * so the table is empty and the md5 of the partition key is the effective hash key.
 */
export function kclViewWithAwsKinesisAgg(read: StreamReadBack): KclView {
  const kept = new Map<string, number>();
  const droppedSubRecords = new Map<string, number>();
  let droppedAggregated = 0;
  let kinesisRecords = 0;
  let aggregatedRecords = 0;
  for (const shard of read.shards) {
    for (const record of shard.records) {
      kinesisRecords++;
      // The record's own partition key only names a plain record's single sub-record, whose key is not read.
      const subs = aggDecode(record.Data ?? new Uint8Array());
      const texts = subs.map((s) => decoder.decode(Buffer.from(s.Data, 'base64')));
      if (subs.length > 0 && subs[0].SubSequenceNumber === undefined) {
        for (const t of texts) bump(kept, t); // a plain record: never filtered
        continue;
      }
      aggregatedRecords++;
      const inRange = subs.every((s) => {
        const key = s.ExplicitPartitionKey !== undefined ? BigInt(s.ExplicitPartitionKey) : partitionKeyToHashKey(s.PartitionKey);
        return key >= shard.startingHashKey && key <= shard.endingHashKey;
      });
      if (inRange) for (const t of texts) bump(kept, t);
      else {
        droppedAggregated++;
        for (const t of texts) bump(droppedSubRecords, t);
      }
    }
  }
  return { kept, droppedSubRecords, droppedAggregated, kinesisRecords, aggregatedRecords, plainRecords: kinesisRecords - aggregatedRecords };
}

/** Every sub-record stored, ignoring ranges (what a non-KCL reader that deaggregates would see). */
export function rawView(kcl: KclView): Map<string, number> {
  const raw = new Map(kcl.kept);
  for (const [text, n] of kcl.droppedSubRecords) raw.set(text, (raw.get(text) ?? 0) + n);
  return raw;
}

/** Sorted `[text, count]` pairs, for comparing two views. */
export function entries(map: Map<string, number>): [string, number][] {
  return [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
