import { fanOutSink } from '../../../lib/metrics/sinks/fan-out';
import type { MetricsSink } from '../../../lib/metrics/metrics-sink';
import { delta, exportOf, recordingSink } from '../../helpers/metrics-sinks';

describe('fanOutSink', () => {
  it('hands each export to every sink and rejects after all settle when one fails', async () => {
    const a = recordingSink();
    const b = recordingSink();
    const failing: MetricsSink = { export: () => Promise.reject(new Error('down')) };
    const batch = exportOf([delta()]);
    await expect(fanOutSink([a, failing, b]).export(batch)).rejects.toThrow('down');
    expect(a.exports).toEqual([batch]);
    expect(b.exports).toEqual([batch]);
  });

  it('passes samples to the sinks that take them, even when one throws', () => {
    const seen: number[] = [];
    const sink = fanOutSink([
      recordingSink(),
      {
        export: () => {},
        onSample: () => {
          throw new Error('bad');
        },
      },
      { export: () => {}, onSample: (_n, v) => void seen.push(v) },
    ]);
    expect(() => sink.onSample?.('AllErrors', 1, {})).toThrow('bad');
    expect(seen).toEqual([1]);
  });

  it('has no onSample when no sink takes samples, and closes every sink', async () => {
    const a = recordingSink();
    const b = recordingSink();
    const sink = fanOutSink([a, b]);
    expect(sink.onSample).toBeUndefined();
    await sink.close?.();
    expect([a.closed, b.closed]).toEqual([1, 1]);
  });
});
