/**
 * Sends the KPL metrics (kpl.md §9) to a StatsD / DogStatsD client (hot-shots' `StatsD` fits),
 * sample by sample: `increment` (counter, `|c`) for event counts, `distribution` (`|d`, Datadog's
 * server-side distributions; or `histogram`/`timing`) for times, sizes and per-X ratios, `gauge`
 * (`|g`) for `UserRecordsPending` (see `INSTRUMENT_KIND`). `export` does nothing.
 *
 * Stat names are `kpl.` + the KPL name (`kpl.BufferingTime`); tags are `stream`, `shard`,
 * `error_code` and the extra dimensions. Every sample is one StatsD line: set hot-shots'
 * `maxBufferSize` to batch them into fewer UDP packets. `hot-shots` is an optional peer, loaded
 * only when no `client` is given.
 */
import { ERROR_CODE_DIMENSION, SHARD_ID_DIMENSION, STREAM_NAME_DIMENSION } from '../metric-names';
import type { MetricDimensions } from '../metric-names';
import type { MetricsSink } from '../metrics-sink';
import { INSTRUMENT_KIND, memoByDimensions } from './instrument-kind';
import { loadOptionalPeer } from './optional-peer';

/** StatsD tags as this sink sets them. */
export type StatsDTags = Readonly<Record<string, string>>;

/** The narrowest StatsD client the sink needs (hot-shots' `StatsD` fits). */
export interface StatsDClientLike {
  increment(stat: string, value: number, tags?: StatsDTags): void;
  histogram(stat: string, value: number, tags?: StatsDTags): void;
  gauge(stat: string, value: number, tags?: StatsDTags): void;
  timing?(stat: string, value: number, tags?: StatsDTags): void;
  distribution?(stat: string, value: number, tags?: StatsDTags): void;
  close?(callback?: (error?: Error) => void): void;
}

/** Options of {@link statsDSink}. */
export interface StatsDSinkOptions {
  /** A client; default `new StatsD(clientOptions)` from 'hot-shots' (closed by the sink's `close`). */
  client?: StatsDClientLike;
  /** Options for the default hot-shots client (host, port, prefix, maxBufferSize, …). */
  clientOptions?: Readonly<Record<string, unknown>>;
  /** Prepended to every KPL name. Default `'kpl.'`. */
  prefix?: string;
  /**
   * Which call records times, sizes and per-X ratios. Default `'distribution'` (DogStatsD `|d`:
   * Datadog aggregates percentiles across hosts); `'histogram'` for DogStatsD `|h`; `'timing'`
   * (`|ms`) for a plain StatsD server, which knows neither.
   */
  distributionMethod?: 'histogram' | 'timing' | 'distribution';
}

/**
 * Maps a series' dimensions to StatsD tags: `stream`, `shard`, `error_code`, extras verbatim.
 *
 * @example toStatsDTags({ StreamName: 'orders' }) // { stream: 'orders' }
 */
export function toStatsDTags(dimensions: MetricDimensions): StatsDTags {
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(dimensions)) {
    if (key === STREAM_NAME_DIMENSION) tags.stream = value;
    else if (key === SHARD_ID_DIMENSION) tags.shard = value;
    else if (key === ERROR_CODE_DIMENSION) tags.error_code = value;
    else tags[key] = value;
  }
  return Object.freeze(tags);
}

/**
 * A {@link MetricsSink} that sends every sample to StatsD.
 *
 * ```text
 * recorder.put('AllErrors', 1, 'orders')       → client.increment('kpl.AllErrors', 1, { stream: 'orders' })
 * recorder.put('RequestTime', 85, 'orders')    → client.distribution('kpl.RequestTime', 85, { stream: 'orders' })
 * recorder.put('UserRecordsPending', 120, 'orders') → client.gauge('kpl.UserRecordsPending', 120, { stream: 'orders' })
 * ```
 *
 * - Only the most specific series of a sample is sent (the StatsD server aggregates).
 * - Close: closes the client only if the sink created it.
 *
 * @example
 * startMetricsUploader({ recorder, sink: statsDSink({ client: new StatsD({ maxBufferSize: 8192 }) }) });
 *
 * @param options - client or client options, prefix, distribution method.
 * @returns a sink whose `onSample` does the work.
 */
export function statsDSink(options: StatsDSinkOptions = {}): MetricsSink {
  const { prefix = 'kpl.', distributionMethod = 'distribution' } = options;
  let client = options.client;
  let owned = false;
  if (client === undefined) {
    const hotShots = loadOptionalPeer<{ StatsD: new (opts?: Readonly<Record<string, unknown>>) => StatsDClientLike }>(
      'hot-shots',
      'statsDSink',
    );
    client = new hotShots.StatsD(options.clientOptions);
    owned = true;
  }
  const statsd = client;
  const record = statsd[distributionMethod]?.bind(statsd) ?? statsd.histogram.bind(statsd);
  const tagsOf = memoByDimensions(toStatsDTags);
  const stats = new Map<string, string>();
  const statOf = (name: string): string => {
    let stat = stats.get(name);
    if (stat === undefined) stats.set(name, (stat = `${prefix}${name}`));
    return stat;
  };

  return {
    export: () => {},
    onSample(name, value, dimensions) {
      const tags = tagsOf(dimensions);
      switch (INSTRUMENT_KIND[name]) {
        case 'counter':
          if (value !== 0) statsd.increment(statOf(name), value, tags);
          break;
        case 'histogram':
          record(statOf(name), value, tags);
          break;
        case 'gauge':
          statsd.gauge(statOf(name), value, tags);
          break;
      }
    },
    close() {
      if (!owned || statsd.close === undefined) return undefined;
      const close = statsd.close.bind(statsd);
      return new Promise<void>((resolve) => close(() => resolve()));
    },
  };
}
