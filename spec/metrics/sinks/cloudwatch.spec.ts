import { ValidationError } from '../../../lib/config';
import {
  batchDatums,
  cloudWatchSink,
  queryDatumBytes,
  queryEnvelopeBytes,
  toCloudWatchDatums,
} from '../../../lib/metrics/sinks/cloudwatch';
import type { CloudWatchDatum } from '../../../lib/metrics/sinks/cloudwatch';
import { createMetricsRecorder } from '../../../lib/metrics/metrics-recorder';
import { startMetricsUploader } from '../../../lib/metrics/metrics-uploader';
import { MissingPeerDependencyError } from '../../../lib/metrics/sinks/optional-peer';
import { awsError, delta, exportOf, fakeCloudWatchClient, withMissingPeer } from '../../helpers/metrics-sinks';

const commandOf = (input: import('../../../lib/metrics/sinks/cloudwatch').PutMetricDataInput) => ({ input });

function deltas(n: number) {
  return Array.from({ length: n }, (_, i) => delta({ dimensions: { StreamName: 'orders', ShardId: `shardId-${String(i).padStart(12, '0')}` } }));
}

describe('cloudWatchSink (kpl.md §9 upload)', () => {
  it('sends statistic sets with unit, dimensions and a wall-clock timestamp', async () => {
    const client = fakeCloudWatchClient();
    const sink = cloudWatchSink({ client, createCommand: commandOf, namespace: 'KinesisProducerLibrary' });
    await sink.export(exportOf([delta({ name: 'BufferingTime', unit: 'Milliseconds', count: 4, sum: 100, min: 5, max: 60 })]));
    expect(client.inputs).toEqual([
      {
        Namespace: 'KinesisProducerLibrary',
        MetricData: [
          {
            MetricName: 'BufferingTime',
            Dimensions: [
              { Name: 'StreamName', Value: 'orders' },
              { Name: 'ShardId', Value: 'shardId-000000000001' },
            ],
            StatisticValues: { SampleCount: 4, Sum: 100, Minimum: 5, Maximum: 60 },
            Unit: 'Milliseconds',
            Timestamp: new Date('2026-01-01T00:00:00.000Z'),
          },
        ],
      },
    ]);
  });

  it('puts at most 20 datums in one PutMetricData call', async () => {
    const client = fakeCloudWatchClient();
    const sink = cloudWatchSink({ client, createCommand: commandOf, namespace: 'KPL' });
    await sink.export(exportOf(deltas(45)));
    expect(client.inputs.map((i) => i.MetricData.length)).toEqual([20, 20, 5]);
    expect(sink.stats).toEqual({ requests: 3, datumsSent: 45, failures: {} });
  });

  it('keeps each call under 38 KiB of query-encoded request', () => {
    const long = 'x'.repeat(700); // ≈ 2.4 KB per datum: 20 of them exceed 38 KiB
    const datums = toCloudWatchDatums(
      exportOf(
        Array.from({ length: 60 }, (_, i) =>
          delta({ dimensions: { ErrorCode: long, StreamName: long + i, ShardId: long } }),
        ),
      ),
    );
    const batches = batchDatums(datums, 'KPL', 20, 38 * 1024);
    for (const batch of batches) {
      const bytes = queryEnvelopeBytes('KPL') + batch.reduce((n, d, i) => n + queryDatumBytes(d, i + 1), 0);
      expect(bytes).toBeLessThanOrEqual(38 * 1024);
      expect(batch.length).toBeLessThanOrEqual(20);
    }
    expect(batches.length).toBeGreaterThan(3); // the byte limit, not the count, splits them
    expect(batches.flat()).toEqual(datums);
  });

  it('measures a datum exactly as its AWS query encoding', () => {
    const [datum] = toCloudWatchDatums(exportOf([delta({ dimensions: { StreamName: 'a b' } })]));
    const p = 'MetricData.member.3.';
    const encoded =
      `&${p}MetricName=UserRecordsPut&${p}Dimensions.member.1.Name=StreamName&${p}Dimensions.member.1.Value=a%20b` +
      `&${p}StatisticValues.SampleCount=10&${p}StatisticValues.Sum=9&${p}StatisticValues.Minimum=0` +
      `&${p}StatisticValues.Maximum=1&${p}Unit=Count&${p}Timestamp=2026-01-01T00%3A00%3A00.000Z`;
    expect(queryDatumBytes(datum, 3)).toBe(encoded.length);
  });

  it('sends a datum larger than the byte limit alone', () => {
    const datum: CloudWatchDatum = { ...toCloudWatchDatums(exportOf([delta()]))[0], MetricName: 'y'.repeat(2000) };
    expect(batchDatums([datum, datum], 'KPL', 20, 1024).map((b) => b.length)).toEqual([1, 1]);
  });

  it('counts failures by kind, logs each kind once without credentials, and rejects once per export', async () => {
    const client = fakeCloudWatchClient();
    const warnings: string[] = [];
    const sink = cloudWatchSink({ client, createCommand: commandOf, namespace: 'KPL', logger: { warn: (m) => warnings.push(m) } });
    const expired = awsError('ExpiredTokenException', 'The security token included in the request is expired (ASIAABCDEFGHIJKLMNOP)');
    client.fail(1, expired);
    client.fail(3, expired);
    client.fail(4, awsError('ThrottlingException', 'Rate exceeded'));
    await expect(sink.export(exportOf(deltas(45)))).rejects.toThrow('2 of 3 PutMetricData calls failed (ExpiredTokenException)');
    await expect(sink.export(exportOf(deltas(25)))).rejects.toMatchObject({ name: 'MetricsUploadError' });
    expect(sink.stats.failures).toEqual({ ExpiredTokenException: 2, ThrottlingException: 1 });
    expect(sink.stats.requests).toBe(5);
    expect(sink.stats.datumsSent).toBe(20 + 5);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('ExpiredTokenException');
    expect(warnings.join('\n')).not.toContain('ABCDEFGHIJKLMNOP');
  });

  it('rejects an invalid namespace or batch size with a ValidationError', () => {
    const client = fakeCloudWatchClient();
    expect(() => cloudWatchSink({ client, createCommand: commandOf, namespace: 'AWS/Kinesis' })).toThrow(ValidationError);
    expect(() => cloudWatchSink({ client, createCommand: commandOf, namespace: '' })).toThrow(ValidationError);
    expect(() => cloudWatchSink({ client, createCommand: commandOf, namespace: 'K', maxDatumsPerRequest: 1001 })).toThrow(
      /maxDatumsPerRequest/,
    );
  });

  it('names the missing optional peer when no client is given and the SDK is not installed', () => {
    withMissingPeer('@aws-sdk/client-cloudwatch', () => {
      expect(() => cloudWatchSink({ namespace: 'KPL' })).toThrow(MissingPeerDependencyError);
      expect(() => cloudWatchSink({ namespace: 'KPL' })).toThrow(/'@aws-sdk\/client-cloudwatch'.*npm install/);
    });
  });
});

describe('cloudWatchSink behind the uploader', () => {
  afterEach(() => jest.useRealTimers());

  it('uploads a minute of roll-up series with wall-clock timestamps, then the rest on stop', async () => {
    jest.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
    const client = fakeCloudWatchClient();
    const recorder = createMetricsRecorder({ level: 'summary', granularity: 'shard', now: () => Date.now() });
    const uploader = startMetricsUploader({
      recorder,
      sink: cloudWatchSink({ client, createCommand: commandOf, namespace: 'KinesisProducerLibrary' }),
    });
    for (let s = 0; s < 90; s++) {
      recorder.put('UserRecordsPut', 1, 'orders', `shardId-${s % 2}`);
      jest.advanceTimersByTime(1_000);
    }
    await Promise.resolve();
    expect(client.inputs).toHaveLength(1);
    const first = client.inputs[0].MetricData;
    expect(first.map((d) => [d.Dimensions.map((x) => x.Value).join('/'), d.StatisticValues.SampleCount])).toEqual([
      ['', 60],
      ['orders', 60],
      ['orders/shardId-0', 30],
      ['orders/shardId-1', 30],
    ]);
    expect(first[0].Timestamp.toISOString()).toBe('2026-01-01T00:01:00.000Z');
    await uploader.stop();
    expect(client.inputs).toHaveLength(2);
    expect(client.inputs[1].MetricData[0].StatisticValues.SampleCount).toBe(30);
    expect(uploader.stats).toMatchObject({ exports: 2, failures: 0 });
  });
});
