/**
 * Issue 11.1: resharding under load, on kinesis-local (a child process on loopback; it has
 * UpdateShardCount and ChildShards, node-testing.md §1). A steady source writes through
 * `kinesisProducer` while the stream reshards; then every shard (closed parents and open children,
 * reached through ChildShards) is read back and seen as a KCL consumer sees it (kpl.md §13): an
 * aggregated record with a sub-record outside its shard's range is dropped whole, so its user
 * records must have been re-sent (retry-classify, departure 3).
 *
 * Default size: 10,000 records at 2,000/s over 1,000 keys (~5 s of load per test, kinesis-local is
 * slow). `RXKPL_FULL_RELIABILITY=1` runs the full 50,000 (25 s of load).
 */
import { lastValueFrom, toArray } from 'rxjs';
import { kinesisProducer } from '../../lib/producer/kinesis-producer';
import type { EmbeddedKinesis } from '../../lib/testing/embedded-kinesis';
import { startKinesisLocal } from '../../lib/testing/kinesis-local';
import { reconcileWithKcl, type KclReconciliation } from '../helpers/reliability-kcl';
import { reliabilityRecords, steadySource } from '../helpers/reliability-load';

const FULL = process.env.RXKPL_FULL_RELIABILITY === '1';
const RECORDS = FULL ? 50_000 : 10_000;
const PER_SECOND = 2_000;
const KEYS = 1_000;
const TEST_TIMEOUT_MS = FULL ? 240_000 : 90_000;

function expectNothingLost(r: KclReconciliation): void {
  expect(r.unreachedShards).toBe(0);
  expect(r.results).toBe(r.records); // every record terminal, exactly once (resultsByRecord throws on a second)
  expect(r.failed).toBe(0);
  expect(r.lost).toBe(0);
  expect(r.kclDuplicatesUnexplained).toBe(0);
  expect(r.straddlingNotResent).toBe(0);
  expect(r.viewsAgree).toBe(true);
  // Every extra stored copy is accounted for: a straddling record the KCL drops, or a request that ended unanswered.
  expect(r.rawDuplicates).toBe(r.straddlingSubRecords + r.kclDuplicatesAfterNoAnswer);
}

describe(`resharding under load on kinesis-local (${RECORDS} records at ${PER_SECOND}/s over ${KEYS} keys)`, () => {
  let kinesis: EmbeddedKinesis;
  beforeAll(async () => {
    kinesis = await startKinesisLocal();
  }, 30_000);
  afterAll(async () => {
    await kinesis?.close();
  });

  it(
    'loses nothing and duplicates nothing a KCL consumer sees while the stream goes 4 → 8 shards (UpdateShardCount)',
    async () => {
      await kinesis.createStream('grow', 4);
      const records = reliabilityRecords(RECORDS, KEYS, 'grow');
      let reshard: Promise<void> | undefined;
      const source = steadySource(records, PER_SECOND, [{ at: 0.4, run: () => (reshard = kinesis.updateShardCount('grow', 8)) }]);
      const started = performance.now();
      const results = await lastValueFrom(source.pipe(kinesisProducer({ client: kinesis.client, streamName: 'grow', overflow: 'buffer' }), toArray()));
      const produceMs = performance.now() - started;
      await reshard;
      const r = await reconcileWithKcl(kinesis.client, 'grow', records, results);
      console.log(`UpdateShardCount 4→8 under load (${Math.round(produceMs)} ms):\n${JSON.stringify(r, null, 1)}`);
      expect(r.shardsRead).toBe(12);
      expect(r.closedShards).toBe(4);
      expectNothingLost(r);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'loses nothing and duplicates nothing a KCL consumer sees through a SplitShard then a MergeShards',
    async () => {
      await kinesis.createStream('split-merge', 4);
      const shards = await kinesis.listShards('split-merge');
      const first = shards[0];
      const lo = BigInt(first.HashKeyRange?.StartingHashKey ?? '0');
      const hi = BigInt(first.HashKeyRange?.EndingHashKey ?? '0');
      const records = reliabilityRecords(RECORDS, KEYS, 'sm');
      let split: Promise<void> | undefined;
      let merge: Promise<void> | undefined;
      const source = steadySource(records, PER_SECOND, [
        { at: 0.3, run: () => (split = kinesis.splitShard('split-merge', first.ShardId as string, (lo + hi + 1n) / 2n)) },
        {
          at: 0.6,
          run: () =>
            (merge = (async () => {
              await split;
              // Merge the upper child of the split with the next shard: both adjacent, both open.
              const open = (await kinesis.listShards('split-merge'))
                .filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined)
                .sort((a, b) => (BigInt(a.HashKeyRange?.StartingHashKey ?? '0') < BigInt(b.HashKeyRange?.StartingHashKey ?? '0') ? -1 : 1));
              await kinesis.mergeShards('split-merge', open[1].ShardId as string, open[2].ShardId as string);
            })()),
        },
      ]);
      const started = performance.now();
      const results = await lastValueFrom(
        source.pipe(kinesisProducer({ client: kinesis.client, streamName: 'split-merge', overflow: 'buffer' }), toArray()),
      );
      const produceMs = performance.now() - started;
      await merge;
      const r = await reconcileWithKcl(kinesis.client, 'split-merge', records, results);
      console.log(`SplitShard then MergeShards under load (${Math.round(produceMs)} ms):\n${JSON.stringify(r, null, 1)}`);
      // 4 + 2 children of the split + 1 child of the merge; shard 0, its upper child and shard 1 closed
      expect(r.shardsRead).toBe(7);
      expect(r.closedShards).toBe(3);
      expectNothingLost(r);
    },
    TEST_TIMEOUT_MS,
  );
});
