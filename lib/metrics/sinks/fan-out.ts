/**
 * Several sinks behind one: the uploader's drain moves the recorder's checkpoint, so a recorder
 * has exactly one uploader, and several destinations (CloudWatch and OpenTelemetry, say) share
 * it through this sink.
 */
import type { MetricsSink } from '../metrics-sink';

/**
 * A {@link MetricsSink} that hands every export, sample and close to each of `sinks`.
 *
 * ```text
 * export(batch) → a.export(batch), b.export(batch)   (together; rejects after all settle if any failed)
 * onSample(…)   → a.onSample?(…), b.onSample?(…)     (a throw in one does not stop the others)
 * close()       → a.close?(), b.close?()
 * ```
 *
 * - Errors: export and close reject with the first failure once every sink has settled;
 *   onSample rethrows the first throw after calling every sink (the recorder counts it).
 *
 * @example startMetricsUploader({ recorder, sink: fanOutSink([cloudWatchSink({ namespace }), openTelemetrySink({ meter })]) })
 *
 * @param sinks - the destinations, in call order.
 * @returns one sink; it has `onSample` only if one of `sinks` has.
 */
export function fanOutSink(sinks: readonly MetricsSink[]): MetricsSink {
  const all = [...sinks];
  const sampling = all.filter((s) => typeof s.onSample === 'function');

  async function settleAll(run: (sink: MetricsSink) => Promise<void> | void): Promise<void> {
    const results = await Promise.allSettled(all.map(async (sink) => run(sink)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  const sink: MetricsSink = {
    export: (batch) => settleAll((s) => s.export(batch)),
    close: () => settleAll((s) => s.close?.()),
  };
  if (sampling.length > 0) {
    sink.onSample = (name, value, dimensions) => {
      let first: { error: unknown } | undefined;
      for (const s of sampling) {
        try {
          s.onSample?.(name, value, dimensions);
        } catch (error) {
          first ??= { error };
        }
      }
      if (first !== undefined) throw first.error;
    };
  }
  return sink;
}
