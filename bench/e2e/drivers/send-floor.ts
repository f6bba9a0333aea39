/**
 * Reference, not a contender: the SDK floor's workload (drivers/sdk-floor.ts) sent through rxkpl's
 * `putRecords` operator instead of a bare `client.send` loop. Every record is aggregated per shard
 * (51,200-byte aggregated records, our encoder) and cut into PutRecords batches of ≤ 500 entries /
 * 5 MiB (the baselines' `Batcher`) BEFORE the clock starts; the timed part only sends the batches,
 * 8 in flight. The difference to "SDK floor" is what our sending costs or saves per byte: the
 * request body with native base64 (lib/operators/internal/put-records-body.ts), the operator's
 * timeout and abort plumbing.
 * Both references send the same entries (drivers/pre-aggregate.ts).
 */
import { from, lastValueFrom, tap } from 'rxjs';
import { putRecords } from '../../../lib/operators/put-records';
import type { KinesisRecord, PutRecordsBatch } from '../../../lib/records';
import { benchClient, main, runDriver, type Workload } from '../common';
import { preAggregate } from './pre-aggregate';
import { Batcher, type Entry, type Sender } from './sender';

interface Prepared {
  readonly batches: PutRecordsBatch[];
  /** The user records (their `seq`s) inside each Kinesis record. */
  readonly seqs: Map<KinesisRecord, number[]>;
}

main(() =>
  runDriver(
    'send floor (pre-aggregated, putRecords operator)',
    async (workload, latencies, { batches, seqs }: Prepared) => {
      const client = benchClient(workload.endpoint);
      const now = performance.now();
      for (const r of workload.records) latencies.put(r.seq, now);
      let requests = 0;
      await lastValueFrom(
        from(batches).pipe(
          putRecords(client, { maxInFlightRequests: 8 }),
          tap((outcome) => {
            requests++;
            const at = performance.now();
            outcome.batch.records.forEach((kr, i) => {
              const ok = outcome.kind === 'answered' && outcome.records[i]?.SequenceNumber !== undefined;
              for (const seq of seqs.get(kr)!) latencies.done(seq, at, ok);
            });
          }),
        ),
        { defaultValue: undefined },
      );
      client.destroy();
      return { note: `${requests} requests` };
    },
    async (workload) => toBatches(workload, await preAggregate(workload)),
  ),
);

/** Cuts the entries into batches exactly as the baselines' `Batcher` does, as `putRecords` input. */
async function toBatches(workload: Workload, entries: readonly Entry[]): Promise<Prepared> {
  const batches: PutRecordsBatch[] = [];
  const seqs = new Map<KinesisRecord, number[]>();
  const collect = {
    submit: async (batch: Entry[]): Promise<void> => {
      const records = batch.map((e): KinesisRecord => {
        const data = e.request.Data!;
        // Only streamName, partitionKey, explicitHashKey and data reach the request; the rest is inert.
        const kr: KinesisRecord = {
          streamName: workload.streamName,
          predictedShard: undefined,
          records: [],
          partitionKey: e.request.PartitionKey!,
          explicitHashKey: e.request.ExplicitHashKey!,
          data,
          size: data.length,
          deadline: 0,
          expiration: Number.MAX_SAFE_INTEGER,
        };
        seqs.set(kr, e.seqs);
        return kr;
      });
      batches.push({ streamName: workload.streamName, records, size: records.reduce((n, kr) => n + kr.size + kr.partitionKey.length, 0) });
    },
  };
  const batcher = new Batcher(collect as unknown as Sender);
  for (const e of entries) await batcher.add(e);
  await batcher.flush();
  return { batches, seqs };
}
