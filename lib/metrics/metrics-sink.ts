/**
 * The one interface every metrics destination implements (CloudWatch, OpenTelemetry, Prometheus,
 * StatsD, or the user's own). Mirrors the KPL's upload step (`metrics_manager.cc`, kpl.md §9) and
 * aiokpl's `MetricsSink` protocol (aiokpl.md §6), fixing aiokpl D6: an export holds the *delta*
 * since the previous one (never overlapping windows), with units and a wall-clock timestamp.
 */
import type { MetricDimensions, MetricName } from './metric-names';
import type { MetricDelta } from './metrics-recorder';

/** One upload: every series that received samples since the previous export. */
export interface MetricExport {
  /** Wall-clock time of the export in epoch ms (the uploader's `scheduler.now()` unless told otherwise). */
  readonly timestampMs: number;
  /** Never empty: the uploader skips empty exports. */
  readonly series: readonly MetricDelta[];
}

/**
 * A metrics destination. `export` gets each delta on the uploader's schedule; `onSample`, when
 * present, gets every sample as it is put (for destinations that aggregate themselves, such as
 * histograms); `close` runs once after the final export.
 *
 * ```text
 * recorder.put ──onSample?──▶ sink          (every sample, only if the sink has onSample)
 * uploader ──every uploadDelayMs──▶ sink.export({ timestampMs, series: deltas })
 * uploader.stop() ──▶ sink.export(final) ──▶ sink.close?()
 * ```
 *
 * A throw or a rejection from `export` is caught and counted by the uploader, never passed on.
 *
 * @example
 * const logSink: MetricsSink = { export: (batch) => console.log(batch.series.length, 'series') };
 */
export interface MetricsSink {
  export(batch: MetricExport): Promise<void> | void;
  onSample?(name: MetricName, value: number, dimensions: MetricDimensions): void;
  close?(): Promise<void> | void;
}
