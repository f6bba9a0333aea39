/**
 * Contender: rxkpl's `kinesisProducer` operator over `from(records)` (overflow 'buffer': the source
 * is an in-memory array), defaults otherwise. Put time = when `from` emits the record.
 */
import { from, lastValueFrom, tap } from 'rxjs';
import { kinesisProducer } from '../../../lib/producer/kinesis-producer';
import { benchClient, main, runDriver, type BenchRecord } from '../common';

main(() =>
  runDriver('rxkpl kinesisProducer', async (workload, latencies) => {
    const client = benchClient(workload.endpoint);
    await lastValueFrom(
      from(workload.records).pipe(
        tap((r) => latencies.put(r.seq, performance.now())),
        kinesisProducer({ client, streamName: workload.streamName, overflow: 'buffer' }),
        tap((result) => latencies.done((result.record as BenchRecord).seq, performance.now(), result.success)),
      ),
      { defaultValue: undefined },
    );
    client.destroy();
  }),
);
