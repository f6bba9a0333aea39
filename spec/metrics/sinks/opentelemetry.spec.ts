import { createMetricsRecorder } from '../../../lib/metrics/metrics-recorder';
import { startMetricsUploader } from '../../../lib/metrics/metrics-uploader';
import { METRIC_NAMES } from '../../../lib/metrics/metric-names';
import { OTEL_ATTRIBUTES, openTelemetrySink, toOtelAttributes } from '../../../lib/metrics/sinks/opentelemetry';
import { MissingPeerDependencyError } from '../../../lib/metrics/sinks/optional-peer';
import { fakeMeter, withMissingPeer } from '../../helpers/metrics-sinks';
import { manualClock } from '../../helpers/metrics-clock';

describe('openTelemetrySink', () => {
  it('uses the OpenTelemetry messaging attribute names', () => {
    expect(OTEL_ATTRIBUTES).toEqual({
      system: 'messaging.system',
      stream: 'messaging.destination.name',
      shard: 'messaging.destination.partition.id',
      errorCode: 'error.type',
    });
    expect(toOtelAttributes({ Host: 'h1', ErrorCode: 'Throttled', StreamName: 'orders', ShardId: 'shardId-1' })).toEqual({
      'messaging.system': 'aws_kinesis',
      Host: 'h1',
      'error.type': 'Throttled',
      'messaging.destination.name': 'orders',
      'messaging.destination.partition.id': 'shardId-1',
    });
  });

  it('creates a counter, histogram or gauge for each KPL metric with its unit', () => {
    const { meter, created } = fakeMeter();
    openTelemetrySink({ meter });
    expect(created).toHaveLength(METRIC_NAMES.length);
    expect(created).toContainEqual({ kind: 'counter', name: 'kpl.UserRecordsPut', unit: '1' });
    expect(created).toContainEqual({ kind: 'histogram', name: 'kpl.BufferingTime', unit: 'ms' });
    expect(created).toContainEqual({ kind: 'histogram', name: 'kpl.KinesisRecordsDataPut', unit: 'By' });
    expect(created).toContainEqual({ kind: 'gauge', name: 'kpl.UserRecordsPending', unit: '1' });
  });

  it('records every sample of a histogram (not a mean per export, aiokpl D6) with the leaf attributes only', () => {
    const { meter, calls } = fakeMeter();
    const clock = manualClock(0);
    const recorder = createMetricsRecorder({ level: 'summary', granularity: 'shard', now: clock.now });
    const uploader = startMetricsUploader({ recorder, sink: openTelemetrySink({ meter }), uploadDelayMs: 60_000 });
    recorder.put('BufferingTime', 10, 'orders', 'shardId-1');
    recorder.put('BufferingTime', 30, 'orders', 'shardId-1');
    recorder.put('UserRecordsPut', 1, 'orders', 'shardId-1');
    recorder.put('UserRecordsPut', 0, 'orders', 'shardId-1');
    recorder.put('ErrorsByCode', 1, 'orders', undefined, 'Throttled');
    void uploader.stop();
    const leaf = {
      'messaging.system': 'aws_kinesis',
      'messaging.destination.name': 'orders',
      'messaging.destination.partition.id': 'shardId-1',
    };
    expect(calls).toEqual([
      { instrument: 'kpl.BufferingTime', method: 'record', value: 10, attributes: leaf },
      { instrument: 'kpl.BufferingTime', method: 'record', value: 30, attributes: leaf },
      { instrument: 'kpl.UserRecordsPut', method: 'add', value: 1, attributes: leaf },
      {
        instrument: 'kpl.ErrorsByCode',
        method: 'add',
        value: 1,
        attributes: { 'messaging.system': 'aws_kinesis', 'error.type': 'Throttled', 'messaging.destination.name': 'orders' },
      },
    ]);
    expect(calls[0].attributes).toBe(calls[1].attributes); // one attributes object per series
  });

  it('reports UserRecordsPending as a gauge of the last sample per stream, not a growing counter', () => {
    const { meter, collect } = fakeMeter();
    const sink = openTelemetrySink({ meter });
    sink.onSample?.('UserRecordsPending', 120, { StreamName: 'a' });
    sink.onSample?.('UserRecordsPending', 80, { StreamName: 'a' });
    sink.onSample?.('UserRecordsPending', 5, { StreamName: 'b' });
    const expected = [
      { value: 80, attributes: { 'messaging.system': 'aws_kinesis', 'messaging.destination.name': 'a' } },
      { value: 5, attributes: { 'messaging.system': 'aws_kinesis', 'messaging.destination.name': 'b' } },
    ];
    expect(collect('kpl.UserRecordsPending')).toEqual(expected);
    expect(collect('kpl.UserRecordsPending')).toEqual(expected);
    void sink.close?.();
    expect(collect('kpl.UserRecordsPending')).toEqual([]);
  });

  it('takes an instrument prefix', () => {
    const { meter, created } = fakeMeter();
    openTelemetrySink({ meter, instrumentPrefix: 'aws.kinesis.producer.' });
    expect(created[0].name).toBe('aws.kinesis.producer.UserRecordsReceived');
  });

  it('names the missing optional peer when no meter is given', () => {
    withMissingPeer('@opentelemetry/api', () => {
      expect(() => openTelemetrySink()).toThrow(MissingPeerDependencyError);
      expect(() => openTelemetrySink()).toThrow(/'@opentelemetry\/api'/);
    });
  });
});
