/**
 * Stream administration shared by the local Kinesis starters ({@link startEmbeddedKinesis},
 * {@link startKinesisLocal}): create a stream and wait for ACTIVE, list every shard, read every
 * record back, and reshard. Test plumbing only: real sleeps are fine here, nothing of this runs
 * inside the producer.
 */
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  MergeShardsCommand,
  SplitShardCommand,
  UpdateShardCountCommand,
  type KinesisClient,
  type Shard,
  type _Record,
} from '@aws-sdk/client-kinesis';

/** The records of one shard, oldest first, as GetRecords returned them. */
export interface ShardRecords {
  readonly shardId: string;
  readonly records: _Record[];
}

type Sender = Pick<KinesisClient, 'send'>;

const POLL_MS = 10;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls DescribeStreamSummary until the stream is ACTIVE; rejects after `timeoutMs`. */
export async function waitForActive(client: Sender, streamName: string, timeoutMs = 15000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
      if (summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    } catch (err) {
      // Right after CreateStream some servers briefly answer ResourceNotFound.
      if ((err as Error).name !== 'ResourceNotFoundException') throw err;
    }
    if (performance.now() > deadline) throw new Error(`stream ${streamName} did not become ACTIVE within ${timeoutMs} ms`);
    await sleep(POLL_MS);
  }
}

/** CreateStream (provisioned, `shardCount` shards), then waits until ACTIVE. */
export async function createStream(client: Sender, streamName: string, shardCount: number): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
  await waitForActive(client, streamName);
}

/** Every shard of the stream (open and closed), following ListShards' NextToken. */
export async function listShards(client: Sender, streamName: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new ListShardsCommand(nextToken === undefined ? { StreamName: streamName } : { NextToken: nextToken }),
    );
    shards.push(...(page.Shards ?? []));
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  return shards;
}

/**
 * Reads every shard (open and closed) from TRIM_HORIZON to its end: a closed shard ends when
 * `NextShardIterator` is absent, an open one at the first empty GetRecords answer (local servers
 * return everything available at once, unlike AWS).
 */
export async function readAll(client: Sender, streamName: string): Promise<ShardRecords[]> {
  const out: ShardRecords[] = [];
  for (const shard of await listShards(client, streamName)) {
    const shardId = shard.ShardId as string;
    const records: _Record[] = [];
    const start = await client.send(
      new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    let iterator = start.ShardIterator;
    for (let calls = 0; iterator !== undefined && calls < 10000; calls++) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10000 }));
      const got = page.Records ?? [];
      records.push(...got);
      if (got.length === 0) break;
      iterator = page.NextShardIterator;
    }
    out.push({ shardId, records });
  }
  return out;
}

/** UpdateShardCount with UNIFORM_SCALING, then waits until ACTIVE. */
export async function updateShardCount(client: Sender, streamName: string, targetShardCount: number): Promise<void> {
  await client.send(
    new UpdateShardCountCommand({ StreamName: streamName, TargetShardCount: targetShardCount, ScalingType: 'UNIFORM_SCALING' }),
  );
  await waitForActive(client, streamName);
}

/** SplitShard at `newStartingHashKey` (decimal string or bigint), then waits until ACTIVE. */
export async function splitShard(
  client: Sender,
  streamName: string,
  shardId: string,
  newStartingHashKey: string | bigint,
): Promise<void> {
  await client.send(
    new SplitShardCommand({ StreamName: streamName, ShardToSplit: shardId, NewStartingHashKey: newStartingHashKey.toString() }),
  );
  await waitForActive(client, streamName);
}

/** MergeShards of two adjacent shards, then waits until ACTIVE. */
export async function mergeShards(client: Sender, streamName: string, shardId: string, adjacentShardId: string): Promise<void> {
  await client.send(new MergeShardsCommand({ StreamName: streamName, ShardToMerge: shardId, AdjacentShardToMerge: adjacentShardId }));
  await waitForActive(client, streamName);
}
