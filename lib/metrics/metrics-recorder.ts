/**
 * Mirrors the KPL's `MetricsManager` + `MetricsIndex` + `Metric` (`aws/metrics/*`, kpl.md §9): the
 * level filter, the granularity cut, the dimension tree that rolls every value up to its
 * ancestors, and local reads (`getMetrics(name, windowSeconds)`).
 *
 * Departures:
 * - The level filter and the granularity cut are applied when a value is put, not at upload, so
 *   a filtered metric costs one property read and never allocates a series.
 * - Extra dimensions are global only and are attached to every series (the KPL makes each extra
 *   dimension a level of the tree, which uploads the same numbers twice).
 * - The series lookup is a nested Map (name → [error code] → stream → shard), so a put is a few
 *   Map lookups and no string concatenation; `level: 'none'` gives a recorder whose `put` is empty.
 * - Hot paths take a {@link MetricSeries} handle (`series(name, stream, shard)`) once and `putAt`
 *   through it with a second read once (`second()`), so a sample costs no lookup and no clock read.
 * - A put updates only the most specific series' buckets; an ancestor's numbers (the roll-up) are
 *   combined from its own samples and its descendants' when it is read or drained. The result is
 *   the KPL's (every value counted at each ancestor), at a third of the cost per put.
 * - Sample listeners (for sinks that need every sample, such as OpenTelemetry histograms) are
 *   called once per put with the leaf series' dimensions; with no listener they cost one length check.
 */
import type { MetricsGranularity, MetricsLevel } from '../config';
import { ValidationError } from '../config';
import { Accumulator, BUCKET_COUNT } from './accumulator';
import type { AccumulatedStats } from './accumulator';
import {
  ERROR_CODE_DIMENSION,
  METRIC_NAMES,
  METRICS,
  SHARD_ID_DIMENSION,
  STREAM_NAME_DIMENSION,
  isMetricKept,
} from './metric-names';
import type { MetricDimensions, MetricName, MetricUnit } from './metric-names';

/** One series as read locally ({@link MetricsRecorder.query}); ARCHITECTURE.md `getMetrics`. */
export interface MetricReading {
  readonly name: string;
  readonly dimensions: MetricDimensions;
  readonly count: number;
  readonly sum: number;
  /** 0 when count is 0. */
  readonly min: number;
  /** 0 when count is 0. */
  readonly max: number;
  /** sum / count; 0 when count is 0. */
  readonly mean: number;
  /** The seconds the reading covers: the window, or the whole seconds since the recorder started. */
  readonly seconds?: number;
}

/** One series' delta since the previous drain, as a sink receives it (see {@link MetricsRecorder.drain}). */
export interface MetricDelta {
  readonly name: MetricName;
  readonly unit: MetricUnit;
  readonly dimensions: MetricDimensions;
  /** Always > 0: series with nothing new are left out. */
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
}

/**
 * One series, found once: {@link MetricsRecorder.series} does the level filter and the dimension
 * lookup, `putAt` then only adds (for hot paths that put the same series again and again). The
 * series appears in reads only after its first sample.
 */
export interface MetricSeries {
  putAt(second: number, value: number): void;
}

/** Called once per kept sample with the dimensions of the most specific series it went to. */
export type MetricSampleListener = (name: MetricName, value: number, dimensions: MetricDimensions) => void;

/** Options of {@link createMetricsRecorder}. */
export interface MetricsRecorderOptions {
  /** Which metrics are kept (kpl.md §9). `'none'` makes `put` a no-op. */
  level: MetricsLevel;
  /** Which dimensions are kept: global none, stream `StreamName`, shard `StreamName` + `ShardId`. */
  granularity: MetricsGranularity;
  /** The clock in ms; the producer passes `() => scheduler.now()`. Only whole seconds matter. */
  now: () => number;
  /** Dimensions added to every series (blank values are dropped), e.g. `{ Host: 'a' }`. */
  extraDimensions?: Readonly<Record<string, string>>;
}

/** Options of {@link MetricsRecorder.drain}. */
export interface MetricsDrainOptions {
  /** Export the current, still-open second too (the final export on stop). Default false: up to now − 1 s. */
  includeCurrentSecond?: boolean;
}

/** The producer's metrics: what the pipeline puts, what `getMetrics` reads, what sinks drain. */
export interface MetricsRecorder {
  /** False at level `'none'`: callers may skip computing values. */
  readonly enabled: boolean;
  readonly level: MetricsLevel;
  readonly granularity: MetricsGranularity;
  /** Whether `put(name, …)` records anything (the level filter), so callers can skip costly values. */
  wants(name: MetricName): boolean;
  /**
   * Adds a sample to its series and every ancestor (kpl.md §9 dimension tree). Blank dimension
   * values are dropped; dimensions finer than the granularity are cut (`ErrorCode` is always kept).
   */
  put(name: MetricName, value: number, streamName?: string, shardId?: string, errorCode?: string): void;
  /**
   * The current whole second of the recorder's clock (`Math.floor(now() / 1000)`): read it once,
   * then {@link MetricsRecorder.putAt} several samples of the same moment without reading the clock again.
   */
  second(): number;
  /** {@link MetricsRecorder.put} into the bucket of `second` (from {@link MetricsRecorder.second}). */
  putAt(second: number, name: MetricName, value: number, streamName?: string, shardId?: string, errorCode?: string): void;
  /**
   * A handle on one series (same arguments as `put`, blank and too-fine dimensions dropped alike),
   * or undefined when the level does not keep `name`. Hold it to put without any lookup.
   */
  series(name: MetricName, streamName?: string, shardId?: string, errorCode?: string): MetricSeries | undefined;
  /**
   * Every series, or those of one name: cumulative since start, or over the last `windowSeconds`
   * (1 … 60) whole seconds including the current one. Throws ValidationError for another window.
   */
  query(name?: string, windowSeconds?: number): MetricReading[];
  /** Each series' delta since the previous drain (series with no new sample left out); moves the checkpoint. */
  drain(options?: MetricsDrainOptions): MetricDelta[];
  /** Starts calling `listener` for every kept sample; returns the function that stops it. */
  addSampleListener(listener: MetricSampleListener): () => void;
  /** How many series exist (each dimension prefix is one series). */
  readonly seriesCount: number;
  /** How many times a sample listener threw (the throw is swallowed: metrics never break the pipeline). */
  readonly listenerErrors: number;
}

interface SeriesNode {
  readonly name: MetricName;
  readonly dimensions: MetricDimensions;
  /** The samples whose most specific series is this one; ancestors combine their descendants' on read. */
  readonly acc: Accumulator;
  errors: Map<string, SeriesNode> | undefined;
  streams: Map<string, SeriesNode> | undefined;
  shards: Map<string, SeriesNode> | undefined;
  /** The child last found under `streams` / `shards`, and its key: consecutive samples mostly share them. */
  lastStream: string | undefined;
  lastStreamNode: SeriesNode | undefined;
  lastShard: string | undefined;
  lastShardNode: SeriesNode | undefined;
}

type ChildKind = 'errors' | 'streams' | 'shards';
const DIMENSION_OF: Readonly<Record<ChildKind, string>> = {
  errors: ERROR_CODE_DIMENSION,
  streams: STREAM_NAME_DIMENSION,
  shards: SHARD_ID_DIMENSION,
};

interface MutableStats {
  count: number;
  sum: number;
  min: number;
  max: number;
}

function addStats(into: MutableStats, s: AccumulatedStats | MutableStats): void {
  if (s.count === 0) return;
  into.count += s.count;
  into.sum += s.sum;
  if (s.min < into.min) into.min = s.min;
  if (s.max > into.max) into.max = s.max;
}

/**
 * A node's roll-up: its own samples (as `own` reads them) plus every descendant's, recorded in
 * `out` for each node visited.
 */
function rollUp(node: SeriesNode, own: (acc: Accumulator) => AccumulatedStats, out: Map<SeriesNode, MutableStats>): MutableStats {
  const total: MutableStats = { count: 0, sum: 0, min: Infinity, max: -Infinity };
  addStats(total, own(node.acc));
  for (const children of [node.errors, node.streams, node.shards]) {
    if (children !== undefined) for (const child of children.values()) addStats(total, rollUp(child, own, out));
  }
  out.set(node, total);
  return total;
}

function isBlank(value: string | undefined): value is undefined {
  // #594: blank dimension values are dropped. The trim only runs for values that start with a space or control char.
  return value === undefined || value.length === 0 || (value.charCodeAt(0) <= 32 && value.trim().length === 0);
}

const NOOP = (): void => {};

function noneRecorder(granularity: MetricsGranularity): MetricsRecorder {
  return Object.freeze({
    enabled: false,
    level: 'none' as const,
    granularity,
    wants: () => false,
    put: NOOP,
    second: () => 0, // nothing is kept at 'none': no clock read
    putAt: NOOP,
    series: () => undefined,
    query: (_name?: string, windowSeconds?: number) => {
      checkWindow(windowSeconds);
      return [];
    },
    drain: () => [],
    addSampleListener: () => NOOP,
    seriesCount: 0,
    listenerErrors: 0,
  });
}

/** A name asked for must be one of the KPL's (kpl.md §9): a typo must not read as "no samples". */
function checkName(name: string | undefined): void {
  if (name === undefined) return;
  if (!(METRIC_NAMES as readonly string[]).includes(name)) {
    throw new ValidationError('name', name, `one of the KPL metric names (${METRIC_NAMES.join(', ')}), or undefined`);
  }
}

function checkWindow(windowSeconds: number | undefined): void {
  if (windowSeconds === undefined) return;
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > BUCKET_COUNT) {
    throw new ValidationError('windowSeconds', windowSeconds, `an integer 1 … ${BUCKET_COUNT}, or undefined`);
  }
}

/**
 * Creates the producer's metrics recorder: the KPL's level filter, granularity cut and roll-up
 * tree over 60 one-second buckets (kpl.md §9).
 *
 * ```text
 * put('UserRecordsPut', 1, 's1', 'shard-0')   granularity 'shard'
 *   → [UserRecordsPut] += 1
 *   → [UserRecordsPut, StreamName=s1] += 1
 *   → [UserRecordsPut, StreamName=s1, ShardId=shard-0] += 1
 * two streams × two shards → 1 + 2 + 4 = 7 series
 * ```
 *
 * Not an Observable: it has no timers and nothing to unsubscribe; {@link startMetricsUploader}
 * drains it on a schedule.
 *
 * @example
 * const metrics = createMetricsRecorder({ level: 'summary', granularity: 'shard', now: () => scheduler.now() });
 * if (metrics.enabled) metrics.put('BufferingTime', attempt.delayMs, stream, attempt.shardId);
 *
 * @param options - level, granularity, clock and extra dimensions.
 * @returns a recorder; at level `'none'` a frozen no-op one with `enabled` false.
 */
export function createMetricsRecorder(options: MetricsRecorderOptions): MetricsRecorder {
  const { level, granularity, now } = options;
  if (level === 'none') return noneRecorder(granularity);

  const keepStream = granularity !== 'global';
  const keepShard = granularity === 'shard';
  const extras: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.extraDimensions ?? {})) {
    if (!isBlank(value)) extras[key] = value;
  }
  const startedAtMs = now();

  // One Map lookup per put does both the level filter (only kept names have a slot) and finds the root.
  const slots = new Map<MetricName, { root: SeriesNode | undefined }>();
  for (const name of METRIC_NAMES) if (isMetricKept(name, level)) slots.set(name, { root: undefined });
  const roots = (): SeriesNode[] => {
    const out: SeriesNode[] = [];
    for (const slot of slots.values()) if (slot.root !== undefined) out.push(slot.root);
    return out;
  };

  const series: SeriesNode[] = [];
  let listeners: MetricSampleListener[] = [];
  let listenerErrors = 0;

  function newNode(name: MetricName, dimensions: MetricDimensions): SeriesNode {
    // Every field set here, in one order: one hidden class for all nodes keeps the hot path monomorphic.
    const node: SeriesNode = {
      name,
      dimensions: Object.freeze(dimensions),
      acc: new Accumulator(),
      errors: undefined,
      streams: undefined,
      shards: undefined,
      lastStream: undefined,
      lastStreamNode: undefined,
      lastShard: undefined,
      lastShardNode: undefined,
    };
    series.push(node);
    return node;
  }

  // Only on a series' first sample: the hot path reads node.errors / .streams / .shards directly.
  function addChild(parent: SeriesNode, kind: ChildKind, value: string): SeriesNode {
    let map = parent[kind];
    if (map === undefined) map = parent[kind] = new Map();
    // Dimension order as the KPL: extras, [ErrorCode], StreamName, ShardId (kpl.md §9).
    const node = newNode(parent.name, { ...parent.dimensions, [DIMENSION_OF[kind]]: value });
    map.set(value, node);
    return node;
  }

  function notify(name: MetricName, value: number, dimensions: MetricDimensions): void {
    for (const listener of listeners) {
      try {
        listener(name, value, dimensions);
      } catch {
        listenerErrors++;
      }
    }
  }

  function put(name: MetricName, value: number, streamName?: string, shardId?: string, errorCode?: string): void {
    const slot = slots.get(name);
    if (slot !== undefined) record(slot, Math.floor(now() / 1000), name, value, streamName, shardId, errorCode);
  }

  function putAt(second: number, name: MetricName, value: number, streamName?: string, shardId?: string, errorCode?: string): void {
    const slot = slots.get(name);
    if (slot !== undefined) record(slot, second, name, value, streamName, shardId, errorCode);
  }

  function record(
    slot: { root: SeriesNode | undefined },
    second: number,
    name: MetricName,
    value: number,
    streamName: string | undefined,
    shardId: string | undefined,
    errorCode: string | undefined,
  ): void {
    if (!Number.isFinite(value)) return;
    const node = leafOf(slot, name, streamName, shardId, errorCode);
    // Only the most specific series: its ancestors combine it on read and drain (the roll-up).
    node.acc.addFinite(value, second);
    if (listeners.length !== 0) notify(name, value, node.dimensions);
  }

  function seriesHandle(name: MetricName, streamName?: string, shardId?: string, errorCode?: string): MetricSeries | undefined {
    const slot = slots.get(name);
    if (slot === undefined) return undefined;
    let node: SeriesNode | undefined; // found on the first sample, so an unused handle adds no series
    return {
      putAt(second: number, value: number): void {
        if (!Number.isFinite(value)) return;
        if (node === undefined) node = leafOf(slot, name, streamName, shardId, errorCode);
        node.acc.addFinite(value, second);
        if (listeners.length !== 0) notify(name, value, node.dimensions);
      },
    };
  }

  /** The most specific series of a sample, created (with its ancestors) on first use. */
  function leafOf(
    slot: { root: SeriesNode | undefined },
    name: MetricName,
    streamName: string | undefined,
    shardId: string | undefined,
    errorCode: string | undefined,
  ): SeriesNode {
    let node = slot.root;
    if (node === undefined) node = slot.root = newNode(name, { ...extras });
    if (!isBlank(errorCode)) node = node.errors?.get(errorCode) ?? addChild(node, 'errors', errorCode);
    if (keepStream && !isBlank(streamName)) {
      let child = node.lastStream === streamName ? node.lastStreamNode : undefined;
      if (child === undefined) {
        child = node.streams?.get(streamName) ?? addChild(node, 'streams', streamName);
        node.lastStream = streamName;
        node.lastStreamNode = child;
      }
      node = child;
    }
    if (keepShard && !isBlank(shardId)) {
      let child = node.lastShard === shardId ? node.lastShardNode : undefined;
      if (child === undefined) {
        child = node.shards?.get(shardId) ?? addChild(node, 'shards', shardId);
        node.lastShard = shardId;
        node.lastShardNode = child;
      }
      node = child;
    }
    return node;
  }

  function query(name?: string, windowSeconds?: number): MetricReading[] {
    checkName(name);
    checkWindow(windowSeconds);
    const nowMs = now();
    const nowSecond = Math.floor(nowMs / 1000);
    const seconds = windowSeconds ?? Math.max(0, Math.floor((nowMs - startedAtMs) / 1000));
    const stats = new Map<SeriesNode, MutableStats>();
    const own = (acc: Accumulator): AccumulatedStats => acc.read(nowSecond, windowSeconds);
    for (const root of roots()) if (name === undefined || root.name === name) rollUp(root, own, stats);
    const out: MetricReading[] = [];
    for (const node of series) {
      const s = stats.get(node);
      if (s === undefined) continue;
      if (s.count === 0) s.min = s.max = 0;
      out.push({
        name: node.name,
        dimensions: node.dimensions,
        count: s.count,
        sum: s.sum,
        min: s.min,
        max: s.max,
        mean: s.count === 0 ? 0 : s.sum / s.count,
        seconds,
      });
    }
    return out;
  }

  function drain(drainOptions?: MetricsDrainOptions): MetricDelta[] {
    const nowSecond = Math.floor(now() / 1000);
    // kpl.md §9: the upload window is (last checkpoint, now − 1 s]: the current second is still filling.
    const through = drainOptions?.includeCurrentSecond === true ? nowSecond : nowSecond - 1;
    const stats = new Map<SeriesNode, MutableStats>();
    const own = (acc: Accumulator): AccumulatedStats => acc.drain(through);
    for (const root of roots()) rollUp(root, own, stats);
    const out: MetricDelta[] = [];
    for (const node of series) {
      const s = stats.get(node);
      if (s === undefined || s.count === 0) continue;
      out.push({
        name: node.name,
        unit: METRICS[node.name].unit,
        dimensions: node.dimensions,
        count: s.count,
        sum: s.sum,
        min: s.min,
        max: s.max,
      });
    }
    return out;
  }

  function addSampleListener(listener: MetricSampleListener): () => void {
    listeners = [...listeners, listener];
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      const i = listeners.indexOf(listener);
      if (i >= 0) listeners = [...listeners.slice(0, i), ...listeners.slice(i + 1)];
    };
  }

  return {
    enabled: true,
    level,
    granularity,
    wants: (name) => slots.has(name),
    put,
    second: () => Math.floor(now() / 1000),
    putAt,
    series: seriesHandle,
    query,
    drain,
    addSampleListener,
    get seriesCount() {
      return series.length;
    },
    get listenerErrors() {
      return listenerErrors;
    },
  };
}
