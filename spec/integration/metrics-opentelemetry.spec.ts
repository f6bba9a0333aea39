/**
 * openTelemetrySink with the real OpenTelemetry SDK (`@opentelemetry/sdk-metrics`, in-memory
 * exporter): counters add every sample once, histograms see every sample, `UserRecordsPending` is
 * a gauge, attributes follow the messaging conventions, units are UCUM (kpl.md §9 units).
 */
import { metrics as otelApi } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { createMetricsRecorder } from '../../lib/metrics/metrics-recorder';
import { startMetricsUploader } from '../../lib/metrics/metrics-uploader';
import { openTelemetrySink } from '../../lib/metrics/sinks/opentelemetry';
import { KinesisProducer } from '../../lib/producer/kinesis-producer-class';
import { startFaultyKinesis } from '../../lib/testing/faulty-kinesis';
import { manualClock } from '../helpers/metrics-clock';
import { numberedRecords } from '../helpers/producer-faults';

interface OtelHarness {
  provider: MeterProvider;
  /** Collects now and returns the metrics of the last collection. */
  collect(): Promise<MetricData[]>;
}

function otelHarness(): OtelHarness {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // A long interval: collections happen only on forceFlush; shutdown stops its timer.
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  return {
    provider,
    collect: async () => {
      exporter.reset();
      await reader.forceFlush();
      return exporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
    },
  };
}

function metric(all: MetricData[], name: string): MetricData {
  const found = all.find((m) => m.descriptor.name === name);
  if (found === undefined) throw new Error(`no metric ${name}; have ${all.map((m) => m.descriptor.name).join(', ')}`);
  return found;
}

const SHARD_1 = 'shardId-000000000001';

describe('openTelemetrySink with the real OpenTelemetry SDK', () => {
  let otel: OtelHarness;
  beforeEach(() => {
    otel = otelHarness();
  });
  afterEach(async () => {
    await otel.provider.shutdown();
  });

  it('feeds counters, histograms and the pending gauge with messaging attributes and units', async () => {
    const clock = manualClock(0);
    const recorder = createMetricsRecorder({ level: 'detailed', granularity: 'shard', now: clock.now });
    const uploader = startMetricsUploader({ recorder, sink: openTelemetrySink({ meter: otel.provider.getMeter('rxkpl-test') }) });
    recorder.put('UserRecordsPut', 1, 'orders', SHARD_1);
    recorder.put('UserRecordsPut', 1, 'orders', SHARD_1);
    recorder.put('UserRecordsPut', 0, 'orders', SHARD_1); // a failure adds nothing to the counter
    recorder.put('BufferingTime', 12, 'orders', SHARD_1);
    recorder.put('BufferingTime', 30, 'orders', SHARD_1);
    recorder.put('ErrorsByCode', 1, 'orders', undefined, 'ProvisionedThroughputExceededException');
    recorder.put('UserRecordsPending', 50, 'orders');
    recorder.put('UserRecordsPending', 20, 'orders');
    const all = await otel.collect();

    const shardAttrs = {
      'messaging.system': 'aws_kinesis',
      'messaging.destination.name': 'orders',
      'messaging.destination.partition.id': SHARD_1,
    };
    const put = metric(all, 'kpl.UserRecordsPut');
    expect(put.dataPointType).toBe(DataPointType.SUM);
    expect(put.descriptor.unit).toBe('1');
    expect(put.dataPoints).toEqual([expect.objectContaining({ attributes: shardAttrs, value: 2 })]);

    const buffering = metric(all, 'kpl.BufferingTime');
    expect(buffering.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(buffering.descriptor.unit).toBe('ms');
    expect(buffering.dataPoints).toHaveLength(1);
    expect(buffering.dataPoints[0].attributes).toEqual(shardAttrs);
    expect(buffering.dataPoints[0].value).toMatchObject({ count: 2, sum: 42, min: 12, max: 30 });

    const errors = metric(all, 'kpl.ErrorsByCode');
    expect(errors.dataPoints).toEqual([
      expect.objectContaining({
        attributes: {
          'messaging.system': 'aws_kinesis',
          'error.type': 'ProvisionedThroughputExceededException',
          'messaging.destination.name': 'orders',
        },
        value: 1,
      }),
    ]);

    const pending = metric(all, 'kpl.UserRecordsPending');
    expect(pending.dataPointType).toBe(DataPointType.GAUGE);
    expect(pending.dataPoints).toEqual([
      expect.objectContaining({ attributes: { 'messaging.system': 'aws_kinesis', 'messaging.destination.name': 'orders' }, value: 20 }),
    ]);

    // a second collection adds only what came since (cumulative: 2 → 3), it never re-adds
    recorder.put('UserRecordsPut', 1, 'orders', SHARD_1);
    expect(metric(await otel.collect(), 'kpl.UserRecordsPut').dataPoints[0].value).toBe(3);
    await uploader.stop();
    // after stop the sink is detached: later samples never reach OpenTelemetry
    recorder.put('UserRecordsPending', 99, 'orders');
    recorder.put('UserRecordsPut', 1, 'orders', SHARD_1);
    const after = await otel.collect();
    expect(after.find((m) => m.descriptor.name === 'kpl.UserRecordsPending')?.dataPoints.map((p) => p.value)).not.toContain(99);
    expect(metric(after, 'kpl.UserRecordsPut').dataPoints[0].value).toBe(3);
  });

  it('uses the global meter provider from @opentelemetry/api when given no meter', async () => {
    otelApi.setGlobalMeterProvider(otel.provider);
    try {
      const sink = openTelemetrySink();
      sink.onSample?.('AllErrors', 1, { StreamName: 'orders' });
      const all = await otel.collect();
      expect(metric(all, 'kpl.AllErrors').dataPoints[0].value).toBe(1);
    } finally {
      otelApi.disable();
    }
  });

  it('counts every user record of a KinesisProducer run once (fault stub, 10% throttled)', async () => {
    const kinesis = await startFaultyKinesis({ streams: { s: 4 } });
    try {
      kinesis.setBehaviour({ seed: 3, throttleRecords: { fraction: 0.1 }, operations: ['PutRecords'] });
      const producer = new KinesisProducer({
        client: kinesis.client,
        streamName: 's',
        recordMaxBufferedTimeMs: 20,
        metricsLevel: 'detailed',
        metricsSink: openTelemetrySink({ meter: otel.provider.getMeter('rxkpl') }),
        random: () => 0.5,
      });
      const results = await Promise.all(numberedRecords(500, 50, 'otel').map((r) => producer.put(r)));
      await producer.close();
      expect(results.every((r) => r.success)).toBe(true);

      const all = await otel.collect();
      const sum = (name: string) =>
        metric(all, name).dataPoints.reduce((n, p) => n + (typeof p.value === 'number' ? p.value : 0), 0);
      expect(sum('kpl.UserRecordsPut')).toBe(500);
      expect(sum('kpl.UserRecordsReceived')).toBe(500);
      const throttles = results.reduce(
        (n, r) => n + r.attempts.filter((a) => a.errorCode === 'ProvisionedThroughputExceededException').length,
        0,
      );
      expect(throttles).toBeGreaterThan(0);
      const retries = metric(all, 'kpl.RetriesPerRecord').dataPoints.reduce(
        (n, p) => n + (p.value as { sum?: number }).sum!,
        0,
      );
      expect(retries).toBe(results.reduce((n, r) => n + r.attempts.length - 1, 0));
      const buffering = metric(all, 'kpl.BufferingTime').dataPoints.reduce((n, p) => n + (p.value as { count: number }).count, 0);
      expect(buffering).toBe(results.reduce((n, r) => n + r.attempts.length, 0));
    } finally {
      await kinesis.close();
    }
  });
});
