/**
 * The six pipeline operators composed by hand — what `kinesisProducer` does for you — for when you
 * want a stage of your own in between (a tap for tracing, a custom batcher, a different sender).
 * Three things to get right, each marked below:
 * 1. `shardPredict` emits carriers and, for records it refuses, results: split with `isRecordResult`.
 * 2. `rateLimitPerShard` emits admitted Kinesis records and, for records that expired waiting,
 *    `expired` outcomes: split with `isSendOutcome`; the outcomes go straight to `retryClassify`.
 * 3. `retryClassify` emits results and retries: feed the retries back in before the aggregator
 *    (the loop never completes by itself, so stop after one result per record).
 * (`kinesisProducer` also re-predicts retried records against a refreshed shard map, flushes the
 * aggregator before the collector, and bounds what it holds; this sketch does none of that.)
 * Run: npx ts-node --transpile-only examples/hand-composed.ts
 */
import { connect, filter, from, lastValueFrom, map, merge, Subject, take, tap, toArray } from 'rxjs';
import {
  aggregateByShard,
  collectBatches,
  isRecordResult,
  isSendOutcome,
  putRecords,
  rateLimitPerShard,
  retryClassify,
  ShardMap,
  shardPredict,
  type BufferedRecord,
  type KinesisRecord,
  type RecordResult,
  type UserRecord,
} from '../lib';
import { startEmbeddedKinesis } from '../lib/testing';

async function main(): Promise<void> {
  const kinesis = await startEmbeddedKinesis();
  await kinesis.createStream('events', 2);
  const shardMap = new ShardMap({ client: kinesis.client, streamName: 'events' });
  await shardMap.start();

  const records: UserRecord[] = Array.from({ length: 1000 }, (_, i) => ({ partitionKey: `user-${i % 50}`, data: `event ${i}` }));
  records.push({ partitionKey: '', data: 'refused: an empty partition key' });
  const retries$ = new Subject<BufferedRecord>();

  const results = await lastValueFrom(
    from(records).pipe(
      shardPredict({ shardMap, streamName: 'events' }),
      connect((predicted$) =>
        merge(
          // 1. refused at once
          predicted$.pipe(filter(isRecordResult)),
          // carriers, and (3.) retries coming back
          merge(predicted$.pipe(filter((x): x is BufferedRecord => !isRecordResult(x))), retries$).pipe(
            aggregateByShard(),
            rateLimitPerShard(),
            // 2. expired outcomes skip the sender
            connect((limited$) =>
              merge(
                limited$.pipe(filter(isSendOutcome)),
                limited$.pipe(
                  filter((x): x is KinesisRecord => !isSendOutcome(x)),
                  collectBatches(),
                  putRecords(kinesis.client),
                ),
              ),
            ),
            retryClassify({ shardMap }),
            // 3. close the loop
            tap((c) => {
              if (c.kind === 'retry') retries$.next(c.record);
            }),
            filter((c): c is { kind: 'result'; result: RecordResult } => c.kind === 'result'),
            map((c) => c.result),
          ),
        ),
      ),
      take(records.length), // one result per record, then stop (unsubscribes the loop)
      toArray(),
    ),
  );

  const ok = results.filter((r) => r.success).length;
  const failed = results.filter((r) => !r.success).map((r) => r.errorCode);
  console.log(`hand-composed: ${results.length} results for ${records.length} records: ${ok} ok, failed: ${failed.join(', ') || 'none'}`);
  const shards = await kinesis.readAll('events');
  const stored = shards.reduce((n, shard) => n + shard.records.length, 0);
  console.log(`hand-composed: ${stored} Kinesis records stored on ${shards.length} shards (aggregated)`);
  shardMap.close();
  await kinesis.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
