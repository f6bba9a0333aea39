/**
 * statsDSink with the real hot-shots client against a loopback UDP listener that records the
 * DogStatsD lines: counts as counters (`|c`), times and sizes as distributions (`|d`), pending as a
 * gauge (`|g`), tags from the dimensions; a dead or broken agent never disturbs record delivery.
 */
import { StatsD } from 'hot-shots';
import { createMetricsRecorder } from '../../lib/metrics/metrics-recorder';
import { startMetricsUploader } from '../../lib/metrics/metrics-uploader';
import { statsDSink } from '../../lib/metrics/sinks/statsd';
import { KinesisProducer } from '../../lib/producer/kinesis-producer-class';
import { startFaultyKinesis, type FaultyKinesis } from '../../lib/testing/faulty-kinesis';
import { manualClock } from '../helpers/metrics-clock';
import { deadUdpPort, startStatsDListener, type StatsDListener } from '../helpers/metrics-stubs';
import { numberedRecords } from '../helpers/producer-faults';

const SHARD_1 = 'shardId-000000000001';

/** Σ of the values of one counter stat over every line (`kpl.X:3|c|#…`). */
function counterTotal(lines: readonly string[], stat: string): number {
  return lines.filter((l) => l.startsWith(`${stat}:`) && l.includes('|c')).reduce((n, l) => n + Number(l.slice(stat.length + 1).split('|')[0]), 0);
}

describe('statsDSink with hot-shots (loopback UDP)', () => {
  let listener: StatsDListener;
  beforeEach(async () => {
    listener = await startStatsDListener();
  });
  afterEach(async () => {
    await listener.close();
  });

  it('sends counters, distributions and the pending gauge as DogStatsD lines tagged from the dimensions', async () => {
    const recorder = createMetricsRecorder({ level: 'detailed', granularity: 'shard', now: manualClock(0).now });
    // no client given: the sink makes a hot-shots StatsD from clientOptions and closes it on stop
    const uploader = startMetricsUploader({ recorder, sink: statsDSink({ clientOptions: { host: '127.0.0.1', port: listener.port } }) });
    recorder.put('UserRecordsPut', 1, 'orders', SHARD_1);
    recorder.put('UserRecordsPut', 0, 'orders', SHARD_1); // a failure sends nothing to a counter
    recorder.put('BufferingTime', 12, 'orders', SHARD_1);
    recorder.put('UserRecordsDataPut', 512, 'orders', SHARD_1);
    recorder.put('UserRecordsPending', 42, 'orders');
    recorder.put('ErrorsByCode', 1, 'orders', undefined, 'InternalFailure');
    await listener.waitFor((lines) => lines.length >= 5);
    await uploader.stop();

    expect([...listener.lines].sort()).toEqual(
      [
        `kpl.UserRecordsPut:1|c|#stream:orders,shard:${SHARD_1}`,
        `kpl.BufferingTime:12|d|#stream:orders,shard:${SHARD_1}`,
        `kpl.UserRecordsDataPut:512|d|#stream:orders,shard:${SHARD_1}`,
        'kpl.UserRecordsPending:42|g|#stream:orders',
        'kpl.ErrorsByCode:1|c|#error_code:InternalFailure,stream:orders',
      ].sort(),
    );
  });

  describe('behind a KinesisProducer (fault stub for Kinesis)', () => {
    let kinesis: FaultyKinesis;
    beforeEach(async () => {
      kinesis = await startFaultyKinesis({ streams: { s: 4 } });
    });
    afterEach(async () => {
      await kinesis.close();
    });

    it('counts every record put once', async () => {
      const client = new StatsD({ host: '127.0.0.1', port: listener.port, maxBufferSize: 1024, bufferFlushInterval: 5 });
      const producer = new KinesisProducer({
        client: kinesis.client,
        streamName: 's',
        recordMaxBufferedTimeMs: 20,
        metricsLevel: 'summary',
        metricsSink: statsDSink({ client }),
      });
      const results = await Promise.all(numberedRecords(200, 20, 'dd').map((r) => producer.put(r)));
      await producer.close();
      await listener.waitFor((lines) => counterTotal(lines, 'kpl.UserRecordsPut') >= 200);
      await new Promise<void>((resolve) => client.close(() => resolve()));
      expect(results.every((r) => r.success)).toBe(true);
      expect(counterTotal(listener.lines, 'kpl.UserRecordsPut')).toBe(200);
      expect(listener.lines.filter((l) => l.startsWith('kpl.BufferingTime:')).length).toBe(200);
    });

    it('delivers every record when the agent is gone (nothing listens on the port)', async () => {
      const errors: Error[] = [];
      const client = new StatsD({ host: '127.0.0.1', port: await deadUdpPort(), errorHandler: (e) => void errors.push(e) });
      const producer = new KinesisProducer({
        client: kinesis.client,
        streamName: 's',
        recordMaxBufferedTimeMs: 20,
        metricsLevel: 'detailed',
        metricsSink: statsDSink({ client }),
      });
      const results = await Promise.all(numberedRecords(300, 30, 'dead').map((r) => producer.put(r)));
      await producer.close();
      await new Promise<void>((resolve) => client.close(() => resolve()));
      expect(results).toHaveLength(300);
      expect(results.every((r) => r.success)).toBe(true);
      expect(kinesis.accepted().length).toBe(300);
    });

    it('delivers every record when the client throws on every call (each throw is swallowed)', async () => {
      const broken = {
        increment: () => {
          throw new Error('agent socket closed');
        },
        distribution: () => {
          throw new Error('agent socket closed');
        },
        histogram: () => {
          throw new Error('agent socket closed');
        },
        gauge: () => {
          throw new Error('agent socket closed');
        },
      };
      const producer = new KinesisProducer({
        client: kinesis.client,
        streamName: 's',
        recordMaxBufferedTimeMs: 20,
        metricsLevel: 'detailed',
        metricsSink: statsDSink({ client: broken }),
      });
      const results = await Promise.all(numberedRecords(300, 30, 'broken').map((r) => producer.put(r)));
      await producer.close();
      expect(results.every((r) => r.success)).toBe(true);
      expect(kinesis.accepted().length).toBe(300);
      expect(producer.getMetrics('UserRecordsPut').find((m) => Object.keys(m.dimensions).length === 0)?.sum).toBe(300);
    });
  });
});
