import { METRIC_NAMES } from '../../../lib/metrics/metric-names';
import { MissingPeerDependencyError } from '../../../lib/metrics/sinks/optional-peer';
import { prometheusName, prometheusSink } from '../../../lib/metrics/sinks/prometheus';
import { fakePromClient, withMissingPeer } from '../../helpers/metrics-sinks';

describe('prometheusSink', () => {
  it('names metrics in Prometheus style with unit suffixes', () => {
    expect(prometheusName('UserRecordsPut')).toBe('kpl_user_records_put_total');
    expect(prometheusName('BufferingTime')).toBe('kpl_buffering_time_milliseconds');
    expect(prometheusName('UserRecordsDataPut')).toBe('kpl_user_records_data_put_bytes');
    expect(prometheusName('UserRecordsPending')).toBe('kpl_user_records_pending');
    expect(prometheusName('KinesisRecordsPerPutRecordsRequest')).toBe('kpl_kinesis_records_per_put_records_request');
  });

  it('creates every instrument up front with the stream, shard, error_code and extra labels', () => {
    const { client, configs } = fakePromClient();
    prometheusSink({ client, extraLabelNames: ['Host'] });
    expect(configs).toHaveLength(METRIC_NAMES.length);
    for (const c of configs) {
      expect(c.labelNames).toEqual(['stream', 'shard', 'error_code', 'Host']);
      expect(c.name).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
    }
    expect(configs.find((c) => c.name === 'kpl_request_time_milliseconds')).toMatchObject({ kind: 'histogram' });
    expect(configs.find((c) => c.name === 'kpl_request_time_milliseconds')?.buckets?.[0]).toBe(1);
  });

  it('increments counters, observes histograms and sets the gauge with labels', () => {
    const { client, calls } = fakePromClient();
    const sink = prometheusSink({ client, extraLabelNames: ['Host'] });
    sink.onSample?.('AllErrors', 1, { StreamName: 'orders', ShardId: 's-1' });
    sink.onSample?.('AllErrors', 0, { StreamName: 'orders', ShardId: 's-1' });
    sink.onSample?.('RequestTime', 85, { Host: 'h', Other: 'dropped', StreamName: 'orders' });
    sink.onSample?.('UserRecordsPending', 7, { StreamName: 'orders' });
    sink.onSample?.('ErrorsByCode', 1, { ErrorCode: 'Throttled' });
    expect(calls).toEqual([
      { instrument: 'kpl_all_errors_total', method: 'inc', value: 1, attributes: { stream: 'orders', shard: 's-1' } },
      { instrument: 'kpl_request_time_milliseconds', method: 'observe', value: 85, attributes: { Host: 'h', stream: 'orders' } },
      { instrument: 'kpl_user_records_pending', method: 'set', value: 7, attributes: { stream: 'orders' } },
      { instrument: 'kpl_errors_by_code_total', method: 'inc', value: 1, attributes: { error_code: 'Throttled' } },
    ]);
  });

  it('names the missing optional peer when no client is given', () => {
    withMissingPeer('prom-client', () => {
      expect(() => prometheusSink()).toThrow(MissingPeerDependencyError);
      expect(() => prometheusSink()).toThrow(/'prom-client'/);
    });
  });
});
