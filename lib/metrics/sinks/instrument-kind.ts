/**
 * How the per-sample sinks (OpenTelemetry, Prometheus, StatsD) map each KPL metric (kpl.md §9) to
 * an instrument. The KPL only has CloudWatch statistic sets; these destinations need a kind.
 */
import type { MetricName } from '../metric-names';

/** counter: the values are added up; histogram: every value is a sample of a distribution; gauge: the last value wins. */
export type InstrumentKind = 'counter' | 'histogram' | 'gauge';

/**
 * The instrument kind of every KPL metric: event counts are counters (`UserRecordsPut`'s 1/0
 * samples add up to the successes), the sampled `UserRecordsPending` is a gauge (aiokpl D6 made
 * it a counter that grew on every export), and times, sizes and per-X ratios are histograms.
 *
 * ```text
 * INSTRUMENT_KIND.AllErrors → 'counter'   .BufferingTime → 'histogram'   .UserRecordsPending → 'gauge'
 * ```
 *
 * @example if (INSTRUMENT_KIND[name] === 'histogram') histogram.record(value)
 */
export const INSTRUMENT_KIND: Readonly<Record<MetricName, InstrumentKind>> = Object.freeze({
  UserRecordsReceived: 'counter',
  UserRecordsPending: 'gauge',
  UserRecordsPut: 'counter',
  UserRecordsDataPut: 'histogram',
  UserRecordExpired: 'counter',
  KinesisRecordsPut: 'counter',
  KinesisRecordsDataPut: 'histogram',
  ErrorsByCode: 'counter',
  AllErrors: 'counter',
  RetriesPerRecord: 'histogram',
  BufferingTime: 'histogram',
  RequestTime: 'histogram',
  UserRecordsPerKinesisRecord: 'histogram',
  KinesisRecordsPerPutRecordsRequest: 'histogram',
  UserRecordsPerPutRecordsRequest: 'histogram',
});

/**
 * Memoises a conversion of a series' dimensions (frozen, one object per series) to a sink's
 * attribute or label object, so the hot path allocates nothing after a series' first sample.
 *
 * ```text
 * f = memoByDimensions(convert);  f(d) → convert(d) once;  f(d) again → the same object
 * ```
 *
 * @example const attributesOf = memoByDimensions(toOtelAttributes);
 */
export function memoByDimensions<D extends object, R>(convert: (dimensions: D) => R): (dimensions: D) => R {
  const cache = new WeakMap<D, R>();
  return (dimensions) => {
    let out = cache.get(dimensions);
    if (out === undefined) {
      out = convert(dimensions);
      cache.set(dimensions, out);
    }
    return out;
  };
}
