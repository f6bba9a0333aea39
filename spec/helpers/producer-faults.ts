/** Builders and checks for producer tests against the fault-injecting stub. */
import { from, lastValueFrom, toArray } from 'rxjs';
import { kinesisProducer, type KinesisProducerOptions } from '../../lib/producer/kinesis-producer';
import type { RecordResult, UserRecord } from '../../lib/records';
import type { FaultyKinesis } from '../../lib/testing/faulty-kinesis';

export function numberedRecords(n: number, keys = 100, prefix = 'rec'): UserRecord[] {
  return Array.from({ length: n }, (_, i) => ({ partitionKey: `pk-${i % keys}`, data: `${prefix}-${i}` }));
}

export async function produceAll(
  stub: FaultyKinesis,
  records: UserRecord[],
  options: Partial<KinesisProducerOptions> = {},
): Promise<RecordResult[]> {
  return lastValueFrom(
    from(records).pipe(
      kinesisProducer({ client: stub.client, streamName: 's', overflow: 'buffer', recordMaxBufferedTimeMs: 20, ...options }),
      toArray(),
    ),
  );
}

export interface Reconciliation {
  readonly succeeded: number;
  readonly failed: number;
  /** Successful results the stub never stored: must be 0. */
  readonly reportedButNotStored: number;
  /** Records the stub stored more than once (a request that failed after storing, e.g. a reset). */
  readonly storedTwice: number;
  /** Stored records that no result claims as successful and that the stub stored (e.g. reset after storing). */
  readonly storedButFailed: number;
}

/** Compares what the producer said with what the stub stored. */
export function reconcile(stub: FaultyKinesis, results: RecordResult[]): Reconciliation {
  const decoder = new TextDecoder();
  const stored = new Map<string, number>();
  for (const r of stub.accepted()) {
    const text = decoder.decode(r.data);
    stored.set(text, (stored.get(text) ?? 0) + 1);
  }
  let succeeded = 0;
  let reportedButNotStored = 0;
  let storedButFailed = 0;
  for (const result of results) {
    const text = result.record.data as string;
    if (result.success) {
      succeeded++;
      if (!stored.has(text)) reportedButNotStored++;
    } else if (stored.has(text)) storedButFailed++;
  }
  const storedTwice = [...stored.values()].filter((n) => n > 1).length;
  return { succeeded, failed: results.length - succeeded, reportedButNotStored, storedTwice, storedButFailed };
}
