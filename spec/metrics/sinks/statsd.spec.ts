import { MissingPeerDependencyError } from '../../../lib/metrics/sinks/optional-peer';
import { statsDSink } from '../../../lib/metrics/sinks/statsd';
import { fakeStatsD, withMissingPeer } from '../../helpers/metrics-sinks';

describe('statsDSink', () => {
  it('sends counters, distributions (the default) and gauges with tags', () => {
    const fake = fakeStatsD();
    const sink = statsDSink({ client: fake.client });
    sink.onSample?.('AllErrors', 1, { StreamName: 'orders' });
    sink.onSample?.('UserRecordsPut', 0, { StreamName: 'orders' });
    sink.onSample?.('RequestTime', 85, { StreamName: 'orders' });
    sink.onSample?.('UserRecordsPending', 120, { StreamName: 'orders' });
    sink.onSample?.('ErrorsByCode', 1, { ErrorCode: 'Throttled', StreamName: 'orders', ShardId: 's-1', Host: 'h' });
    expect(fake.calls).toEqual([
      { instrument: 'kpl.AllErrors', method: 'increment', value: 1, attributes: { stream: 'orders' } },
      { instrument: 'kpl.RequestTime', method: 'distribution', value: 85, attributes: { stream: 'orders' } },
      { instrument: 'kpl.UserRecordsPending', method: 'gauge', value: 120, attributes: { stream: 'orders' } },
      {
        instrument: 'kpl.ErrorsByCode',
        method: 'increment',
        value: 1,
        attributes: { error_code: 'Throttled', stream: 'orders', shard: 's-1', Host: 'h' },
      },
    ]);
  });

  it('uses timing for distributions when asked, and a prefix', () => {
    const fake = fakeStatsD();
    const sink = statsDSink({ client: fake.client, distributionMethod: 'timing', prefix: 'app.kpl.' });
    sink.onSample?.('BufferingTime', 12, {});
    expect(fake.calls).toEqual([{ instrument: 'app.kpl.BufferingTime', method: 'timing', value: 12, attributes: {} }]);
  });

  it('falls back to histogram when the client has no distribution method', () => {
    const fake = fakeStatsD();
    const { distribution: _unused, ...client } = fake.client;
    const sink = statsDSink({ client });
    sink.onSample?.('RequestTime', 7, { StreamName: 'orders' });
    expect(fake.calls).toEqual([{ instrument: 'kpl.RequestTime', method: 'histogram', value: 7, attributes: { stream: 'orders' } }]);
  });

  it('does not close a client it did not create', async () => {
    const fake = fakeStatsD();
    await statsDSink({ client: fake.client }).close?.();
    expect(fake.closed).toBe(0);
  });

  it('names the missing optional peer when no client is given', () => {
    withMissingPeer('hot-shots', () => {
      expect(() => statsDSink()).toThrow(MissingPeerDependencyError);
      expect(() => statsDSink()).toThrow(/'hot-shots'/);
    });
  });
});
