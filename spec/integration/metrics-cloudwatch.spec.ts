/**
 * cloudWatchSink with the real `@aws-sdk/client-cloudwatch` against a loopback stub that records
 * every PutMetricData call (kpl.md §9 "Upload"): datums carry unit and timestamp, batches keep
 * ≤ 20 datums and ≤ 38 KiB, no window is uploaded twice, and a failing endpoint never disturbs
 * record delivery.
 */
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { createMetricsRecorder } from '../../lib/metrics/metrics-recorder';
import { cloudWatchSink, queryDatumBytes, queryEnvelopeBytes, toCloudWatchDatums } from '../../lib/metrics/sinks/cloudwatch';
import { KinesisProducer } from '../../lib/producer/kinesis-producer-class';
import { startFaultyKinesis, type FaultyKinesis } from '../../lib/testing/faulty-kinesis';
import { numberedRecords } from '../helpers/producer-faults';
import { manualClock } from '../helpers/metrics-clock';
import { startCloudWatchStub, type CloudWatchStub, type ReceivedDatum } from '../helpers/metrics-stubs';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function datumsOf(stub: CloudWatchStub): ReceivedDatum[] {
  return stub.calls.flatMap((c) => c.MetricData);
}

function dimsKey(d: ReceivedDatum): string {
  return (d.Dimensions ?? []).map((x) => `${x.Name}=${x.Value}`).join(',');
}

/** Σ SampleCount of one series (by name and exact dimensions) over every upload. */
function uploadedCount(stub: CloudWatchStub, name: string, dims: string): number {
  return datumsOf(stub)
    .filter((d) => d.MetricName === name && dimsKey(d) === dims)
    .reduce((n, d) => n + (d.StatisticValues?.SampleCount ?? 0), 0);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cloudWatchSink with the real SDK client (loopback stub)', () => {
  let stub: CloudWatchStub;
  beforeEach(async () => {
    stub = await startCloudWatchStub();
  });
  afterEach(async () => {
    await stub.close();
  });

  it('uploads one datum per series with its statistic set, unit and timestamp under the namespace', async () => {
    const clock = manualClock(T0);
    const recorder = createMetricsRecorder({ level: 'detailed', granularity: 'shard', now: clock.now });
    recorder.put('BufferingTime', 40, 'orders', 'shardId-000000000001');
    recorder.put('BufferingTime', 10, 'orders', 'shardId-000000000001');
    recorder.put('UserRecordsDataPut', 512, 'orders', 'shardId-000000000001');
    recorder.put('ErrorsByCode', 1, 'orders', undefined, 'ProvisionedThroughputExceededException');
    const sink = cloudWatchSink({
      namespace: 'KinesisProducerLibrary',
      client: stub.client(),
      createCommand: (input) => new PutMetricDataCommand(input),
    });
    await sink.export({ timestampMs: T0 + 1500, series: recorder.drain({ includeCurrentSecond: true }) });

    expect(stub.calls).toHaveLength(1);
    expect(stub.calls[0]).toMatchObject({ target: 'GraniteServiceVersion20100801.PutMetricData', Namespace: 'KinesisProducerLibrary' });
    const byKey = new Map(datumsOf(stub).map((d) => [`${d.MetricName}|${dimsKey(d)}`, d]));
    expect(byKey.get('BufferingTime|StreamName=orders,ShardId=shardId-000000000001')).toEqual({
      MetricName: 'BufferingTime',
      Dimensions: [
        { Name: 'StreamName', Value: 'orders' },
        { Name: 'ShardId', Value: 'shardId-000000000001' },
      ],
      StatisticValues: { SampleCount: 2, Sum: 50, Minimum: 10, Maximum: 40 },
      Unit: 'Milliseconds',
      Timestamp: (T0 + 1500) / 1000,
    });
    expect(byKey.get('BufferingTime|')?.StatisticValues).toEqual({ SampleCount: 2, Sum: 50, Minimum: 10, Maximum: 40 });
    expect(byKey.get('UserRecordsDataPut|StreamName=orders')).toMatchObject({ Unit: 'Bytes', StatisticValues: { Sum: 512 } });
    expect(byKey.get('ErrorsByCode|ErrorCode=ProvisionedThroughputExceededException,StreamName=orders')).toMatchObject({ Unit: 'Count' });
    // 3 BufferingTime + 3 UserRecordsDataPut + 3 ErrorsByCode (root, code, code+stream) series
    expect(datumsOf(stub)).toHaveLength(9);
    expect(datumsOf(stub).every((d) => d.Unit !== undefined && d.Timestamp === (T0 + 1500) / 1000)).toBe(true);
    expect(sink.stats).toEqual({ requests: 1, datumsSent: 9, failures: {} });
  });

  it('keeps every call within 20 datums and 38 KiB, splitting on bytes when dimensions are long', async () => {
    const clock = manualClock(T0);
    const long = 'é'.repeat(250); // 1500 URL-encoded bytes per value
    const recorder = createMetricsRecorder({
      level: 'detailed',
      granularity: 'shard',
      now: clock.now,
      extraDimensions: { A: long, B: long, C: long, D: long },
    });
    for (let shard = 0; shard < 30; shard++) recorder.put('UserRecordsPut', 1, 'orders', `shardId-${String(shard).padStart(12, '0')}`);
    const batch = { timestampMs: T0, series: recorder.drain({ includeCurrentSecond: true }) };
    expect(batch.series).toHaveLength(32);
    const sink = cloudWatchSink({ namespace: 'KPL', client: stub.client(), createCommand: (input) => new PutMetricDataCommand(input) });
    await sink.export(batch);

    const sizes = stub.calls.map((c) => c.MetricData.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(32);
    expect(Math.max(...sizes)).toBeLessThan(20); // the byte limit binds, not the datum limit
    const datums = toCloudWatchDatums(batch);
    let offset = 0;
    for (const call of stub.calls) {
      const mine = datums.slice(offset, offset + call.MetricData.length);
      offset += call.MetricData.length;
      const queryBytes = mine.reduce((n, d, i) => n + queryDatumBytes(d, i + 1), queryEnvelopeBytes('KPL'));
      expect(queryBytes).toBeLessThanOrEqual(38 * 1024);
      expect(call.bodyBytes).toBeLessThanOrEqual(38 * 1024);
    }
    // and short dimensions batch by count: 45 series → 20 + 20 + 5
    stub.calls.length = 0;
    const plain = createMetricsRecorder({ level: 'detailed', granularity: 'shard', now: clock.now });
    for (let shard = 0; shard < 43; shard++) plain.put('AllErrors', 0, 'orders', `shardId-${String(shard).padStart(12, '0')}`);
    await sink.export({ timestampMs: T0, series: plain.drain({ includeCurrentSecond: true }) });
    expect(stub.calls.map((c) => c.MetricData.length)).toEqual([20, 20, 5]);
  });

  it('loads the SDK itself when given no client, and destroys the client it made on close', async () => {
    const sink = cloudWatchSink({ namespace: 'KinesisProducerLibrary', region: 'us-east-1' });
    expect(sink.stats.requests).toBe(0);
    await sink.close?.();
  });

  describe('behind a KinesisProducer (fault stub for Kinesis)', () => {
    let kinesis: FaultyKinesis;
    beforeEach(async () => {
      kinesis = await startFaultyKinesis({ streams: { s: 4 } });
    });
    afterEach(async () => {
      await kinesis.close();
    });

    it('uploads each window once: every upload summed equals what the producer recorded', async () => {
      const sink = cloudWatchSink({ namespace: 'KinesisProducerLibrary', client: stub.client(), createCommand: (input) => new PutMetricDataCommand(input) });
      const producer = new KinesisProducer({
        client: kinesis.client,
        streamName: 's',
        recordMaxBufferedTimeMs: 20,
        metricsLevel: 'detailed',
        metricsGranularity: 'shard',
        metricsSink: sink,
        metricsUploadDelayMs: 150,
      });
      const records = numberedRecords(600, 60, 'cw');
      const results = [];
      for (let wave = 0; wave < 3; wave++) {
        results.push(...(await Promise.all(records.slice(wave * 200, wave * 200 + 200).map((r) => producer.put(r)))));
        if (wave < 2) await sleep(1100); // the next wave lands in a later second, after at least one upload
      }
      await producer.close();

      expect(results.every((r) => r.success)).toBe(true);
      expect(stub.calls.length).toBeGreaterThanOrEqual(3);
      const callsWithPuts = stub.calls.filter((c) => c.MetricData.some((d) => d.MetricName === 'UserRecordsPut'));
      expect(callsWithPuts.length).toBeGreaterThanOrEqual(3);
      // no window twice, none lost: the uploads add up to the cumulative local reading
      expect(uploadedCount(stub, 'UserRecordsPut', '')).toBe(600);
      expect(uploadedCount(stub, 'UserRecordsPut', 'StreamName=s')).toBe(600);
      const perShard = datumsOf(stub).filter((d) => d.MetricName === 'UserRecordsPut' && dimsKey(d).includes('ShardId='));
      expect(perShard.reduce((n, d) => n + (d.StatisticValues?.SampleCount ?? 0), 0)).toBe(600);
      expect(uploadedCount(stub, 'UserRecordsReceived', 'StreamName=s')).toBe(600);
      const local = producer.getMetrics('KinesisRecordsPut').find((m) => Object.keys(m.dimensions).length === 0);
      expect(uploadedCount(stub, 'KinesisRecordsPut', '')).toBe(local?.count);
      // each upload has one timestamp, later than the previous upload's
      const stamps = stub.calls.map((c) => new Set(c.MetricData.map((d) => d.Timestamp)));
      expect(stamps.every((s) => s.size === 1)).toBe(true);
      const ordered = stamps.map((s) => [...s][0] as number);
      expect([...ordered].sort((a, b) => a - b)).toEqual(ordered);
      expect(datumsOf(stub).every((d) => ['Count', 'Bytes', 'Milliseconds'].includes(d.Unit ?? ''))).toBe(true);
    });

    it.each(['error', 'reset'] as const)('delivers every record while every upload fails (%s), logging each failure kind once', async (mode) => {
      stub.setMode(mode);
      const warnings: string[] = [];
      const sink = cloudWatchSink({
        namespace: 'KinesisProducerLibrary',
        client: stub.client(),
        createCommand: (input) => new PutMetricDataCommand(input),
        logger: { warn: (m) => warnings.push(m) },
      });
      const producer = new KinesisProducer({
        client: kinesis.client,
        streamName: 's',
        recordMaxBufferedTimeMs: 20,
        metricsLevel: 'detailed',
        metricsSink: sink,
        metricsUploadDelayMs: 100,
      });
      const records = numberedRecords(400, 40, `fail-${mode}`);
      const first = await Promise.all(records.slice(0, 200).map((r) => producer.put(r)));
      await sleep(1100);
      const second = await Promise.all(records.slice(200).map((r) => producer.put(r)));
      await producer.close();

      expect([...first, ...second].every((r) => r.success)).toBe(true);
      expect(kinesis.accepted().length).toBe(400);
      expect(stub.requests()).toBeGreaterThanOrEqual(2);
      const failed = Object.values(sink.stats.failures).reduce((a, b) => a + b, 0);
      expect(failed).toBe(sink.stats.requests);
      expect(sink.stats.datumsSent).toBe(0);
      expect(warnings).toHaveLength(Object.keys(sink.stats.failures).length);
      expect(warnings.join('\n')).not.toMatch(/secretAccessKey|local\b/);
    });
  });
});
