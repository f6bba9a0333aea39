/**
 * Sends the KPL metrics (kpl.md §9) to prom-client instruments, sample by sample: counters for
 * event counts, histograms for times, sizes and per-X ratios, a gauge for `UserRecordsPending`
 * (see `INSTRUMENT_KIND`). Prometheus scrapes them; `export` does nothing.
 *
 * Names follow Prometheus conventions: `kpl_` + snake_case + a unit suffix (`_total` for
 * counters, `_milliseconds`, `_bytes`), e.g. `kpl_user_records_put_total`,
 * `kpl_buffering_time_milliseconds`. Labels: `stream`, `shard`, `error_code`, and each extra
 * dimension named in `extraLabelNames`. `prom-client` is an optional peer, loaded only when no
 * `client` is given; instruments register in the `registry` you pass (prom-client's default
 * registry when none is given). Each instrument's help text starts with the KPL name, so a
 * series is traceable to kpl.md §9: `# HELP kpl_user_records_put_total KPL UserRecordsPut (Count): …`.
 */
import { METRICS, METRIC_NAMES, ERROR_CODE_DIMENSION, SHARD_ID_DIMENSION, STREAM_NAME_DIMENSION } from '../metric-names';
import type { MetricDimensions, MetricName } from '../metric-names';
import type { MetricsSink } from '../metrics-sink';
import { INSTRUMENT_KIND, memoByDimensions } from './instrument-kind';
import type { InstrumentKind } from './instrument-kind';
import { loadOptionalPeer } from './optional-peer';

/** Label values as this sink sets them. */
export type PromLabels = Partial<Record<string, string>>;

/** The narrowest prom-client `Registry` the sink needs (`new client.Registry()` fits); only passed through. */
export interface PromRegistryLike {
  metrics(): Promise<string> | string;
}

/** The configuration this sink passes to each prom-client constructor (`R`: the registry type). */
export interface PromInstrumentConfig<R extends PromRegistryLike = PromRegistryLike> {
  name: string;
  help: string;
  labelNames: string[];
  buckets?: number[];
  /** The registries to register in (prom-client `registers`); left out, prom-client's default registry. */
  registers?: R[];
}
/** The narrowest prom-client `Counter` the sink needs. */
export interface PromCounterLike {
  inc(labels: PromLabels, value?: number): void;
}
/** The narrowest prom-client `Histogram` the sink needs. */
export interface PromHistogramLike {
  observe(labels: PromLabels, value: number): void;
}
/** The narrowest prom-client `Gauge` the sink needs. */
export interface PromGaugeLike {
  set(labels: PromLabels, value: number): void;
}
/**
 * The narrowest prom-client module the sink needs (`import * as client from 'prom-client'` fits);
 * `R` is its `Registry` type, so the `registry` option takes prom-client's own.
 */
export interface PromClientLike<R extends PromRegistryLike = PromRegistryLike> {
  Counter: new (config: PromInstrumentConfig<R>) => PromCounterLike;
  Histogram: new (config: PromInstrumentConfig<R>) => PromHistogramLike;
  Gauge: new (config: PromInstrumentConfig<R>) => PromGaugeLike;
}

/** Options of {@link prometheusSink}. */
export interface PrometheusSinkOptions<R extends PromRegistryLike = PromRegistryLike> {
  /** The prom-client module; default `require('prom-client')`. */
  client?: PromClientLike<R>;
  /**
   * The registry the 15 instruments register in, e.g. `new client.Registry()`; serve it with
   * `await registry.metrics()`. Default: prom-client's global default registry.
   */
  registry?: R;
  /** Prepended to every name. Default `'kpl_'`. */
  prefix?: string;
  /** Extra dimension keys to keep as labels (others are dropped: Prometheus needs label names up front). */
  extraLabelNames?: readonly string[];
  /** Histogram buckets by unit; defaults suit ms (1 ms … 60 s), bytes (64 B … 1 MiB) and counts (1 … 500). */
  buckets?: Partial<Record<'Milliseconds' | 'Bytes' | 'Count', number[]>>;
}

const DEFAULT_BUCKETS = {
  Milliseconds: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000],
  Bytes: [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576],
  Count: [1, 2, 5, 10, 25, 50, 100, 250, 500],
};

/**
 * CamelCase to snake_case.
 *
 * @example snakeCase('UserRecordsPut') // 'user_records_put'
 */
export function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/**
 * The Prometheus name of a KPL metric.
 *
 * ```text
 * UserRecordsPut → kpl_user_records_put_total      BufferingTime → kpl_buffering_time_milliseconds
 * UserRecordsDataPut → kpl_user_records_data_put_bytes      UserRecordsPending → kpl_user_records_pending
 * ```
 *
 * @example prometheusName('AllErrors') // 'kpl_all_errors_total'
 */
export function prometheusName(name: MetricName, prefix = 'kpl_'): string {
  const base = `${prefix}${snakeCase(name)}`;
  const kind: InstrumentKind = INSTRUMENT_KIND[name];
  if (kind === 'counter') return `${base}_total`;
  const unit = METRICS[name].unit;
  if (unit === 'Milliseconds') return `${base}_milliseconds`;
  if (unit === 'Bytes') return `${base}_bytes`;
  return base;
}

/**
 * A {@link MetricsSink} that records every sample into prom-client counters, histograms and a gauge.
 *
 * ```text
 * recorder.put('RequestTime', 85, 'orders')
 *   → Histogram kpl_request_time_milliseconds.observe({ stream: 'orders' }, 85)
 * ```
 *
 * - Only the most specific series of a sample is reported (PromQL `sum by` does the roll-up).
 * - Construction creates all 15 instruments in `registry`, so a name clash there throws at once
 *   (two producers in one process: give each its own `registry`, or a different `prefix`).
 * - Close: nothing (the instruments stay registered).
 *
 * @example
 * const registry = new client.Registry();
 * startMetricsUploader({ recorder, sink: prometheusSink({ client, registry }) });
 * // GET /metrics → res.end(await registry.metrics())
 *
 * @param options - client, registry, prefix, extra labels, buckets.
 * @returns a sink whose `onSample` does the work.
 */
export function prometheusSink<R extends PromRegistryLike = PromRegistryLike>(options: PrometheusSinkOptions<R> = {}): MetricsSink {
  const client = options.client ?? loadOptionalPeer<PromClientLike<R>>('prom-client', 'prometheusSink');
  const prefix = options.prefix ?? 'kpl_';
  const extraLabelNames = [...(options.extraLabelNames ?? [])];
  const labelNames = ['stream', 'shard', 'error_code', ...extraLabelNames];
  const extras = new Set(extraLabelNames);
  const labelsOf = memoByDimensions((dimensions: MetricDimensions): PromLabels => {
    const labels: Record<string, string> = {};
    for (const [key, value] of Object.entries(dimensions)) {
      if (key === STREAM_NAME_DIMENSION) labels.stream = value;
      else if (key === SHARD_ID_DIMENSION) labels.shard = value;
      else if (key === ERROR_CODE_DIMENSION) labels.error_code = value;
      else if (extras.has(key)) labels[key] = value;
    }
    return Object.freeze(labels);
  });

  const counters: Partial<Record<MetricName, PromCounterLike>> = {};
  const histograms: Partial<Record<MetricName, PromHistogramLike>> = {};
  const gauges: Partial<Record<MetricName, PromGaugeLike>> = {};
  for (const name of METRIC_NAMES) {
    const config: PromInstrumentConfig<R> = {
      name: prometheusName(name, prefix),
      help: `KPL ${name} (${METRICS[name].unit}): ${METRICS[name].description}`,
      labelNames,
      ...(options.registry !== undefined ? { registers: [options.registry] } : {}),
    };
    switch (INSTRUMENT_KIND[name]) {
      case 'counter':
        counters[name] = new client.Counter(config);
        break;
      case 'histogram':
        histograms[name] = new client.Histogram({
          ...config,
          buckets: options.buckets?.[METRICS[name].unit] ?? DEFAULT_BUCKETS[METRICS[name].unit],
        });
        break;
      case 'gauge':
        gauges[name] = new client.Gauge(config);
        break;
    }
  }

  return {
    export: () => {},
    onSample(name, value, dimensions) {
      const labels = labelsOf(dimensions);
      const counter = counters[name];
      if (counter !== undefined) {
        if (value > 0) counter.inc(labels, value); // prom-client counters reject negative increments
        return;
      }
      const histogram = histograms[name];
      if (histogram !== undefined) {
        histogram.observe(labels, value);
        return;
      }
      gauges[name]?.set(labels, value);
    },
  };
}
