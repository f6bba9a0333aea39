/**
 * Contender: rxkpl's `KinesisProducer` class, `put` from an async loop (it yields to the event
 * loop every 1,000 puts, as a real producer of records would), then `close()`.
 */
import { KinesisProducer } from '../../../lib/producer/kinesis-producer-class';
import { benchClient, main, runDriver } from '../common';

main(() =>
  runDriver('rxkpl KinesisProducer.put', async (workload, latencies) => {
    const client = benchClient(workload.endpoint);
    const producer = new KinesisProducer({ client, streamName: workload.streamName });
    const records = workload.records;
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      latencies.put(record.seq, performance.now());
      void producer.put(record).then((result) => latencies.done(record.seq, performance.now(), result.success));
      if (i % 1000 === 999) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await producer.close();
    client.destroy();
  }),
);
