/**
 * prometheusSink with the real prom-client: instruments register in the registry the user passes
 * (never the global one), and `registry.metrics()` exposes the expected series, names in Prometheus
 * style with the KPL name in the help text (kpl.md §9).
 */
import * as promClient from 'prom-client';
import { METRIC_NAMES } from '../../lib/metrics/metric-names';
import { createMetricsRecorder } from '../../lib/metrics/metrics-recorder';
import { startMetricsUploader } from '../../lib/metrics/metrics-uploader';
import { prometheusName, prometheusSink } from '../../lib/metrics/sinks/prometheus';
import { KinesisProducer } from '../../lib/producer/kinesis-producer-class';
import { startFaultyKinesis } from '../../lib/testing/faulty-kinesis';
import { manualClock } from '../helpers/metrics-clock';
import { numberedRecords } from '../helpers/producer-faults';

/** The value of one exposed sample line, e.g. `kpl_all_errors_total{stream="orders"} 2`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('prometheusSink with the real prom-client', () => {
  let afterThis: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await afterThis?.();
    afterThis = undefined;
    promClient.register.clear();
  });

  it('registers all 15 instruments in the given registry and exposes the expected series', async () => {
    const registry = new promClient.Registry();
    const recorder = createMetricsRecorder({ level: 'detailed', granularity: 'shard', now: manualClock(0).now });
    const uploader = startMetricsUploader({ recorder, sink: prometheusSink({ client: promClient, registry }) });
    afterThis = () => uploader.stop();
    recorder.put('UserRecordsPut', 1, 'orders', 'shardId-000000000001');
    recorder.put('UserRecordsPut', 1, 'orders', 'shardId-000000000001');
    recorder.put('UserRecordsPut', 0, 'orders', 'shardId-000000000001');
    recorder.put('BufferingTime', 7, 'orders', 'shardId-000000000001');
    recorder.put('BufferingTime', 120, 'orders', 'shardId-000000000001');
    recorder.put('ErrorsByCode', 1, 'orders', undefined, 'InternalFailure');
    recorder.put('UserRecordsPending', 42, 'orders');
    const text = await registry.metrics();

    expect(registry.getMetricsAsArray()).toHaveLength(METRIC_NAMES.length);
    expect(promClient.register.getMetricsAsArray()).toEqual([]); // the global registry is untouched
    expect(text).toContain('# HELP kpl_user_records_put_total KPL UserRecordsPut (Count): ');
    expect(text).toContain('# TYPE kpl_user_records_put_total counter');
    expect(sample(text, 'kpl_user_records_put_total{stream="orders",shard="shardId-000000000001"}')).toBe(2);
    expect(text).toContain('# TYPE kpl_buffering_time_milliseconds histogram');
    expect(sample(text, 'kpl_buffering_time_milliseconds_count{stream="orders",shard="shardId-000000000001"}')).toBe(2);
    expect(sample(text, 'kpl_buffering_time_milliseconds_sum{stream="orders",shard="shardId-000000000001"}')).toBe(127);
    expect(sample(text, 'kpl_buffering_time_milliseconds_bucket{le="10",stream="orders",shard="shardId-000000000001"}')).toBe(1);
    expect(sample(text, 'kpl_errors_by_code_total{error_code="InternalFailure",stream="orders"}')).toBe(1);
    expect(text).toContain('# TYPE kpl_user_records_pending gauge');
    expect(sample(text, 'kpl_user_records_pending{stream="orders"}')).toBe(42);
    for (const name of METRIC_NAMES) expect(text).toContain(`# HELP ${prometheusName(name)} KPL ${name} (`);
  });

  it('refuses a second sink on the same registry (name clash) but takes one per registry or prefix', () => {
    const registry = new promClient.Registry();
    prometheusSink({ client: promClient, registry });
    expect(() => prometheusSink({ client: promClient, registry })).toThrow(/already been registered/);
    expect(() => prometheusSink({ client: promClient, registry: new promClient.Registry() })).not.toThrow();
    expect(() => prometheusSink({ client: promClient, registry, prefix: 'orders_kpl_' })).not.toThrow();
  });

  it('loads prom-client itself and uses its default registry when given neither', async () => {
    const sink = prometheusSink();
    sink.onSample?.('AllErrors', 1, { StreamName: 'orders' });
    expect(sample(await promClient.register.metrics(), 'kpl_all_errors_total{stream="orders"}')).toBe(1);
  });

  it('exposes a KinesisProducer run: every record put counted once per shard', async () => {
    const kinesis = await startFaultyKinesis({ streams: { s: 4 } });
    try {
      const registry = new promClient.Registry();
      const producer = new KinesisProducer({
        client: kinesis.client,
        streamName: 's',
        recordMaxBufferedTimeMs: 20,
        metricsLevel: 'detailed',
        metricsGranularity: 'shard',
        metricsSink: prometheusSink({ client: promClient, registry }),
      });
      const results = await Promise.all(numberedRecords(400, 40, 'prom').map((r) => producer.put(r)));
      await producer.close();
      const text = await registry.metrics();
      const shards = new Set(results.map((r) => r.shardId));
      let total = 0;
      for (const shard of shards) total += sample(text, `kpl_user_records_put_total{stream="s",shard="${shard}"}`) ?? 0;
      expect(total).toBe(400);
      expect(sample(text, 'kpl_user_records_received_total{stream="s"}')).toBe(400);
      expect(sample(text, 'kpl_request_time_milliseconds_count{stream="s"}')).toBe(kinesis.putRecordsRequests.length);
    } finally {
      await kinesis.close();
    }
  });
});
