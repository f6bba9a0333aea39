/**
 * Reference, not a contender: the cost of the SDK alone. Every record is aggregated per shard
 * (51,200-byte aggregated records, our encoder) BEFORE the clock starts; the timed part only sends
 * the ready entries as `PutRecordsCommand`s of ≤ 500 entries / 5 MiB, 8 in flight. No producer that
 * lets the SDK serialize its requests can beat this on the same machine: it is the SDK's JSON and
 * JavaScript base64, SigV4 (SHA-256 of the body) per byte, plus the stub's answers. rxkpl writes the
 * body itself with native base64 (drivers/send-floor.ts measures that floor).
 */
import { benchClient, main, runDriver } from '../common';
import { preAggregate } from './pre-aggregate';
import { Batcher, Sender, type Entry } from './sender';

main(() =>
  runDriver(
    'SDK floor (pre-aggregated, send only)',
    async (workload, latencies, entries: Entry[]) => {
      const client = benchClient(workload.endpoint);
      const now = performance.now();
      for (const r of workload.records) latencies.put(r.seq, now);
      const sender = new Sender(client, workload.streamName, 8, latencies);
      const batcher = new Batcher(sender);
      for (const e of entries) await batcher.add(e);
      await batcher.flush();
      await sender.idle();
      client.destroy();
      return { note: `${sender.requests} requests` };
    },
    preAggregate,
  ),
);
