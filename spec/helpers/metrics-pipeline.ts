/** Drives the composed producer with metrics on, and reads its series by exact dimensions. */
import { from, lastValueFrom, toArray } from 'rxjs';
import type { MetricReading } from '../../lib/metrics/metrics-recorder';
import { kinesisProducer, type KinesisProducerOperator, type KinesisProducerOptions } from '../../lib/producer/kinesis-producer';
import type { RecordResult, UserRecord } from '../../lib/records';
import type { FaultyKinesis } from '../../lib/testing/faulty-kinesis';

export interface MeteredRun {
  readonly results: RecordResult[];
  readonly producer: KinesisProducerOperator;
}

/** Runs `records` through `kinesisProducer` on the stub at `detailed` / `shard` unless told otherwise. */
export async function produceMetered(
  stub: FaultyKinesis,
  records: UserRecord[],
  options: Partial<KinesisProducerOptions> = {},
): Promise<MeteredRun> {
  const producer = kinesisProducer({
    client: stub.client,
    streamName: 's',
    overflow: 'buffer',
    recordMaxBufferedTimeMs: 20,
    metricsLevel: 'detailed',
    metricsGranularity: 'shard',
    random: () => 0.5,
    ...options,
  });
  const results = await lastValueFrom(from(records).pipe(producer, toArray()));
  return { results, producer };
}

function sameDimensions(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** The cumulative reading of one series (exact dimensions), or undefined if it was never put. */
export function series(run: MeteredRun, name: string, dimensions: Record<string, string> = {}): MetricReading | undefined {
  return run.producer.getMetrics(name).find((m) => sameDimensions(m.dimensions, dimensions));
}

/** Every series of a name that has a `ShardId`. */
export function shardSeries(run: MeteredRun, name: string): MetricReading[] {
  return run.producer.getMetrics(name).filter((m) => m.dimensions.ShardId !== undefined);
}

/** Σ over results of a per-result number. */
export function sumOf(results: readonly RecordResult[], f: (r: RecordResult) => number): number {
  return results.reduce((n, r) => n + f(r), 0);
}
