/**
 * `npm run demo`: the main job against an embedded Kinesis (kinesalite, in-process, loopback).
 *
 * 1. starts kinesalite and creates a 4-shard stream;
 * 2. produces 100,000 records (500 partition keys, 100 bytes each) through `kinesisProducer`, with a
 *    progress bar;
 * 3. prints a summary: records/s, user records per Kinesis record, PutRecords requests,
 *    successes/failures, p50/p99 put-to-result latency;
 * 4. reads every shard back, deaggregates, and checks every record arrived exactly once, on the shard
 *    whose hash range holds its key, with its data intact;
 * 5. shuts everything down (exit code 1 if the check fails).
 */
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { SingleBar, Presets } from 'cli-progress';
import { from, lastValueFrom, tap } from 'rxjs';
import { decodeAggregated, isAggregated, kinesisProducer, partitionKeyToHashKey, type RecordResult, type UserRecord } from '../lib';
import { startEmbeddedKinesis } from '../lib/testing';

const STREAM = 'rxkpl-demo';
const RECORDS = Number(process.env.DEMO_RECORDS ?? 100_000);
const KEYS = 500;
const SHARDS = 4;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const kinesis = await startEmbeddedKinesis();
  try {
    await kinesis.createStream(STREAM, SHARDS);
    console.log(`kinesalite on ${kinesis.endpoint}, stream "${STREAM}" with ${SHARDS} shards`);

    // Count what goes over the wire without changing it.
    let putRequests = 0;
    let kinesisRecords = 0;
    const client: Pick<KinesisClient, 'send'> = {
      send: ((command: unknown, options?: unknown) => {
        if (command instanceof PutRecordsCommand) {
          putRequests++;
          kinesisRecords += command.input.Records?.length ?? 0;
        }
        return (kinesis.client.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options);
      }) as KinesisClient['send'],
    };

    const records: UserRecord[] = [];
    for (let i = 0; i < RECORDS; i++) {
      records.push({ partitionKey: `key-${i % KEYS}`, data: `record-${i}`.padEnd(100, '.') });
    }

    const bar = new SingleBar({ format: 'producing |{bar}| {value}/{total} records  {rate} rec/s' }, Presets.shades_classic);
    bar.start(RECORDS, 0, { rate: 0 });
    const latencies: number[] = [];
    const results: RecordResult[] = [];
    const start = Date.now();
    await lastValueFrom(
      from(records).pipe(
        kinesisProducer({ client, streamName: STREAM, overflow: 'buffer' }),
        tap((result) => {
          latencies.push(Date.now() - start);
          results.push(result);
          if (results.length % 1000 === 0 || results.length === RECORDS) {
            bar.update(results.length, { rate: Math.round(results.length / ((Date.now() - start) / 1000 || 1)) });
          }
        }),
      ),
      { defaultValue: undefined },
    );
    bar.stop();
    const seconds = (Date.now() - start) / 1000;

    const ok = results.filter((r) => r.success).length;
    const failed = results.length - ok;
    latencies.sort((a, b) => a - b);
    console.log(`\nproduced ${results.length} records in ${seconds.toFixed(2)} s = ${Math.round(results.length / seconds)} records/s`);
    console.log(`  successes ${ok}, failures ${failed}`);
    console.log(`  PutRecords requests ${putRequests}, Kinesis records ${kinesisRecords}, user records per Kinesis record ${(RECORDS / Math.max(1, kinesisRecords)).toFixed(1)}`);
    console.log(`  put-to-result latency p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms`);
    if (failed > 0) {
      const codes = new Map<string, number>();
      for (const r of results) if (!r.success) codes.set(r.errorCode ?? '?', (codes.get(r.errorCode ?? '?') ?? 0) + 1);
      console.log('  failure codes:', Object.fromEntries(codes));
    }

    // Read every shard back and check: each record exactly once, on the right shard, data intact.
    const shards = await kinesis.listShards(STREAM);
    const ranges = new Map(shards.map((s) => [s.ShardId ?? '', [BigInt(s.HashKeyRange?.StartingHashKey ?? '0'), BigInt(s.HashKeyRange?.EndingHashKey ?? '0')] as const]));
    const seen = new Map<string, number>();
    let wrongShard = 0;
    let stored = 0;
    const decoder = new TextDecoder();
    for (const { shardId, records: shardRecords } of await kinesis.readAll(STREAM)) {
      const [lo, hi] = ranges.get(shardId) ?? [0n, -1n];
      for (const r of shardRecords) {
        const data = r.Data ?? new Uint8Array();
        const subs = isAggregated(data) ? decodeAggregated(data) : [{ partitionKey: r.PartitionKey ?? '', data }];
        stored++;
        for (const sub of subs) {
          const key = partitionKeyToHashKey(sub.partitionKey);
          if (key < lo || key > hi) wrongShard++;
          const text = decoder.decode(sub.data);
          seen.set(text, (seen.get(text) ?? 0) + 1);
        }
      }
    }
    let missing = 0;
    let duplicates = 0;
    for (const record of records) {
      const n = seen.get(record.data as string) ?? 0;
      if (n === 0) missing++;
      if (n > 1) duplicates += n - 1;
    }
    console.log(`read back ${stored} Kinesis records from ${shards.length} shards: ${seen.size} distinct user records`);
    console.log(`  missing ${missing}, duplicates ${duplicates}, on the wrong shard ${wrongShard}`);
    const passed = missing === 0 && duplicates === 0 && wrongShard === 0 && ok === RECORDS;
    console.log(passed ? 'verification passed: every record arrived exactly once' : 'VERIFICATION FAILED');
    console.log(`demo finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    process.exitCode = passed ? 0 : 1;
  } finally {
    await kinesis.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
