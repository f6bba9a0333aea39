/**
 * Baseline: no aggregation, 500-record `PutRecordsCommand` batches, 8 in flight, no retries.
 */
import { benchClient, main, runDriver } from '../common';
import { Batcher, Sender } from './sender';

main(() =>
  runDriver('naive 500-record PutRecords', async (workload, latencies) => {
    const client = benchClient(workload.endpoint);
    const sender = new Sender(client, workload.streamName, 8, latencies);
    const batcher = new Batcher(sender);
    for (const r of workload.records) {
      latencies.put(r.seq, performance.now());
      await batcher.add({ request: { Data: r.data, PartitionKey: r.partitionKey }, seqs: [r.seq] });
    }
    await batcher.flush();
    await sender.idle();
    client.destroy();
    return { note: `${sender.requests} requests` };
  }),
);
