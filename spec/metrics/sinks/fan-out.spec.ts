import { fanOutSink } from '../../../lib/metrics/sinks/fan-out';
import type { MetricsSink } from '../../../lib/metrics/metrics-sink';
import { delta, exportOf, recordingSink } from '../../helpers/metrics-sinks';

describe('fanOutSink', () => {
  it('hands each export to every sink and rejects after all settle when one fails', async () => {
    const a = recordingSink();
    const b = recordingSink();
    const failing: MetricsSink = { export: () => Promise.reject(new Error('down')) };
    let slowDone = false; // still pending when `failing` rejects: the fan-out must wait for it
    const slow: MetricsSink = { export: () => new Promise<void>((resolve) => setTimeout(() => resolve(void (slowDone = true)), 10)) };
    const batch = exportOf([delta()]);
    await expect(fanOutSink([a, failing, slow, b]).export(batch)).rejects.toThrow('down');
    expect(slowDone).toBe(true);
    expect(a.exports).toEqual([batch]);
    expect(b.exports).toEqual([batch]);
  });

  it('closes every sink and rejects with the first close failure after all settle', async () => {
    let slowClosed = false;
    const sinks: MetricsSink[] = [
      { export: () => {}, close: () => Promise.reject(new Error('first')) },
      { export: () => {}, close: () => new Promise<void>((resolve) => setTimeout(() => resolve(void (slowClosed = true)), 10)) },
      { export: () => {}, close: () => Promise.reject(new Error('second')) },
    ];
    await expect(fanOutSink(sinks).close?.()).rejects.toThrow('first');
    expect(slowClosed).toBe(true);
  });

  it('passes samples to the sinks that take them, even when one throws, and rethrows the first throw', () => {
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
      {
        export: () => {},
        onSample: () => {
          throw new Error('later');
        },
      },
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
