/**
 * Sends the KPL metrics (kpl.md §9) to an OpenTelemetry `Meter`, sample by sample: the recorder's
 * sample hook feeds counters, histograms and one observable gauge, and the OpenTelemetry SDK
 * aggregates and exports on its own schedule. `export` does nothing.
 *
 * Fixes aiokpl D6: histograms record every sample (aiokpl recorded one mean per export), counters
 * add each sample once (aiokpl added `sum − last_sum` of a rolling window), and
 * `UserRecordsPending` is a gauge (aiokpl's UpDownCounter grew on every export).
 *
 * Attributes follow the OpenTelemetry messaging semantic conventions where one exists:
 * `messaging.system` = `aws_kinesis`, `messaging.destination.name` = stream name,
 * `messaging.destination.partition.id` = shard id, and the general `error.type` = error code.
 * Extra dimensions keep their own names. `@opentelemetry/api` is an optional peer, loaded only
 * when no `meter` is given.
 */
import { METRICS, METRIC_NAMES, SHARD_ID_DIMENSION, STREAM_NAME_DIMENSION, ERROR_CODE_DIMENSION } from '../metric-names';
import type { MetricDimensions, MetricName, MetricUnit } from '../metric-names';
import type { MetricsSink } from '../metrics-sink';
import { INSTRUMENT_KIND, memoByDimensions } from './instrument-kind';
import { loadOptionalPeer } from './optional-peer';

/** OpenTelemetry attributes as this sink sets them. */
export type OtelAttributes = Readonly<Record<string, string>>;

/** The narrowest OpenTelemetry `Counter` the sink needs. */
export interface OtelCounterLike {
  add(value: number, attributes?: OtelAttributes): void;
}
/** The narrowest OpenTelemetry `Histogram` the sink needs. */
export interface OtelHistogramLike {
  record(value: number, attributes?: OtelAttributes): void;
}
/** The narrowest OpenTelemetry `ObservableResult` the sink needs. */
export interface OtelObservableResultLike {
  observe(value: number, attributes?: OtelAttributes): void;
}
/** The callback of an observable instrument. */
export type OtelObservableCallback = (result: OtelObservableResultLike) => void;
/** The narrowest OpenTelemetry `ObservableGauge` the sink needs. */
export interface OtelObservableGaugeLike {
  addCallback(callback: OtelObservableCallback): void;
  removeCallback(callback: OtelObservableCallback): void;
}
/** Instrument options the sink passes. */
export interface OtelInstrumentOptions {
  description?: string;
  unit?: string;
}
/** The narrowest OpenTelemetry `Meter` the sink needs (`metrics.getMeter('rxkpl')` fits). */
export interface OtelMeterLike {
  createCounter(name: string, options?: OtelInstrumentOptions): OtelCounterLike;
  createHistogram(name: string, options?: OtelInstrumentOptions): OtelHistogramLike;
  createObservableGauge(name: string, options?: OtelInstrumentOptions): OtelObservableGaugeLike;
}

/** Options of {@link openTelemetrySink}. */
export interface OpenTelemetrySinkOptions {
  /** The meter; default `metrics.getMeter('rxkpl')` from '@opentelemetry/api'. */
  meter?: OtelMeterLike;
  /** Prepended to every KPL metric name. Default `'kpl.'` (e.g. `kpl.BufferingTime`). */
  instrumentPrefix?: string;
}

/** The semantic-convention attribute names this sink uses. */
export const OTEL_ATTRIBUTES = Object.freeze({
  system: 'messaging.system',
  stream: 'messaging.destination.name',
  shard: 'messaging.destination.partition.id',
  errorCode: 'error.type',
});

/** `messaging.system` value for Kinesis (OpenTelemetry messaging conventions). */
export const OTEL_MESSAGING_SYSTEM = 'aws_kinesis';

const UNIT: Readonly<Record<MetricUnit, string>> = { Count: '1', Bytes: 'By', Milliseconds: 'ms' };

/**
 * Maps a series' dimensions to OpenTelemetry attributes (messaging semantic conventions).
 *
 * ```text
 * { ErrorCode: 'E', StreamName: 's', ShardId: 'h' } → { messaging.system: 'aws_kinesis', error.type: 'E',
 *     messaging.destination.name: 's', messaging.destination.partition.id: 'h' }
 * ```
 *
 * @example histogram.record(42, toOtelAttributes({ StreamName: 'orders' }))
 */
export function toOtelAttributes(dimensions: MetricDimensions): OtelAttributes {
  const out: Record<string, string> = { [OTEL_ATTRIBUTES.system]: OTEL_MESSAGING_SYSTEM };
  for (const [key, value] of Object.entries(dimensions)) {
    if (key === STREAM_NAME_DIMENSION) out[OTEL_ATTRIBUTES.stream] = value;
    else if (key === SHARD_ID_DIMENSION) out[OTEL_ATTRIBUTES.shard] = value;
    else if (key === ERROR_CODE_DIMENSION) out[OTEL_ATTRIBUTES.errorCode] = value;
    else out[key] = value;
  }
  return Object.freeze(out);
}

/**
 * A {@link MetricsSink} that records every sample into OpenTelemetry instruments: counters for
 * event counts, histograms for times, sizes and per-X ratios, an observable gauge for
 * `UserRecordsPending` (see `INSTRUMENT_KIND`).
 *
 * ```text
 * recorder.put('BufferingTime', 42, 'orders', 'shardId-1')
 *   → histogram 'kpl.BufferingTime'.record(42, { messaging.system: aws_kinesis,
 *        messaging.destination.name: orders, messaging.destination.partition.id: shardId-1 })
 * ```
 *
 * - Only the most specific series of a sample is reported (no roll-up: OpenTelemetry backends aggregate).
 * - Close: the gauge callback is removed; the instruments stay with the meter.
 *
 * @example
 * startMetricsUploader({ recorder, sink: openTelemetrySink({ meter: metrics.getMeter('orders-producer') }) });
 *
 * @param options - the meter and the name prefix.
 * @returns a sink whose `onSample` does the work.
 */
export function openTelemetrySink(options: OpenTelemetrySinkOptions = {}): MetricsSink {
  const { instrumentPrefix = 'kpl.' } = options;
  const meter =
    options.meter ??
    loadOptionalPeer<{ metrics: { getMeter(name: string): OtelMeterLike } }>('@opentelemetry/api', 'openTelemetrySink').metrics.getMeter(
      'rxkpl',
    );
  const attributesOf = memoByDimensions(toOtelAttributes);

  const counters: Partial<Record<MetricName, OtelCounterLike>> = {};
  const histograms: Partial<Record<MetricName, OtelHistogramLike>> = {};
  const gauges: { gauge: OtelObservableGaugeLike; callback: OtelObservableCallback }[] = [];
  // Keyed by the attribute values, not the object: callers other than the recorder may pass fresh objects.
  const lastValues: Partial<Record<MetricName, Map<string, { attributes: OtelAttributes; value: number }>>> = {};
  const keyOf = memoByDimensions((attributes: OtelAttributes) =>
    Object.entries(attributes)
      .map(([k, v]) => `${k}=${v}`)
      .join('\u0000'),
  );

  for (const name of METRIC_NAMES) {
    const instrumentOptions = { description: METRICS[name].description, unit: UNIT[METRICS[name].unit] };
    const instrumentName = `${instrumentPrefix}${name}`;
    switch (INSTRUMENT_KIND[name]) {
      case 'counter':
        counters[name] = meter.createCounter(instrumentName, instrumentOptions);
        break;
      case 'histogram':
        histograms[name] = meter.createHistogram(instrumentName, instrumentOptions);
        break;
      case 'gauge': {
        const values = new Map<string, { attributes: OtelAttributes; value: number }>();
        lastValues[name] = values;
        const gauge = meter.createObservableGauge(instrumentName, instrumentOptions);
        const callback: OtelObservableCallback = (result) => {
          for (const { attributes, value } of values.values()) result.observe(value, attributes);
        };
        gauge.addCallback(callback);
        gauges.push({ gauge, callback });
        break;
      }
    }
  }

  return {
    export: () => {},
    onSample(name, value, dimensions) {
      const attributes = attributesOf(dimensions);
      const counter = counters[name];
      if (counter !== undefined) {
        // OpenTelemetry counters are monotonic: a negative value would be dropped with a warning.
        if (value > 0) counter.add(value, attributes);
        return;
      }
      const histogram = histograms[name];
      if (histogram !== undefined) {
        histogram.record(value, attributes);
        return;
      }
      lastValues[name]?.set(keyOf(attributes), { attributes, value });
    },
    close() {
      for (const { gauge, callback } of gauges) gauge.removeCallback(callback);
    },
  };
}
