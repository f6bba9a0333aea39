/**
 * ProducerConfig: the KPL's options under their KPL names (kpl.md §1), with the KPL's defaults
 * unless ARCHITECTURE.md says otherwise, checked when a producer or operator is created.
 *
 * Departures from the KPL: ranges are bounded where the KPL's were `Long.MAX_VALUE` (its RecordTtl
 * overflowed the nanosecond clock, kpl.md §1), `metricsLevel` defaults to `'none'`, and
 * `maxOutstandingRecords` / `maxOutstandingBytes` are new (bounded memory, kpl.md §12 item 1).
 */

import { asyncScheduler, type Observable, type SchedulerLike } from 'rxjs';

/** A caller's mistake: names the field, the value given and what is allowed. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly allowed: string,
  ) {
    super(`${field} is ${describe(value)}; allowed: ${allowed}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 80 ? `"${value.slice(0, 77)}…" (${value.length} chars)` : `"${value}"`;
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return `${value.constructor.name}(${value.length})`;
  if (typeof value === 'object' && value !== null) return Object.prototype.toString.call(value);
  return String(value);
}

/** Which KPL metrics are kept (kpl.md §9): none, the summary set, or every metric. */
export type MetricsLevel = 'none' | 'summary' | 'detailed';
/** Which dimensions metrics keep: none, the stream, or the stream and the shard (kpl.md §9). */
export type MetricsGranularity = 'global' | 'stream' | 'shard';

/** Every tuning field of the producer (ARCHITECTURE.md "Configuration"). All optional on input. */
export interface ProducerConfig {
  /** Pack user records of one predicted shard into aggregated Kinesis records. Default true. */
  aggregationEnabled: boolean;
  /** User records per aggregated record. Default 4294967295, 1 … 4294967295. */
  aggregationMaxCount: number;
  /** Bytes per aggregated record. Default 51200, 64 … 1048576. */
  aggregationMaxSize: number;
  /** Kinesis records per PutRecords. Default 500, 1 … 500. */
  collectionMaxCount: number;
  /** Bytes per PutRecords (partition keys + data). Default 5242880, 52224 … 5242880. */
  collectionMaxSize: number;
  /** Largest user record data in bytes. Default 1048576, 64 … 10485760. */
  maxUserRecordSize: number;
  /** How long a record may wait to be batched, in ms. Default 100, 0 … 3600000. */
  recordMaxBufferedTimeMs: number;
  /** How long a record may take in all before it fails as `Expired`, in ms. Default 30000, 100 … 86400000. */
  recordTtlMs: number;
  /** Per-shard rate limit, in % of the shard's 1000 records/s and 1 MiB/s. Default 150, 1 … 10000. */
  rateLimit: number;
  /** Fail a throttled record after its first attempt instead of retrying. Default false. */
  failIfThrottled: boolean;
  /** Records held (accepted, not yet terminal) at most. Default 100000, ≥ 1. */
  maxOutstandingRecords: number;
  /** Bytes of user data held at most. Default 268435456, ≥ 1048576. */
  maxOutstandingBytes: number;
  /** PutRecords requests in flight at once. Default 24, 1 … 256. */
  maxInFlightRequests: number;
  /** A PutRecords request fails after this many ms without an answer. Default 6000, 100 … 600000. */
  requestTimeoutMs: number;
  /** Which metrics are kept (kpl.md §9). Default 'none'. */
  metricsLevel: MetricsLevel;
  /** Which dimensions metrics keep. Default 'shard'. */
  metricsGranularity: MetricsGranularity;
  /** CloudWatch namespace for metrics. Default 'KinesisProducerLibrary'. */
  metricsNamespace: string;
}

/** The default of every ProducerConfig field (the KPL's, kpl.md §1, unless ARCHITECTURE.md says otherwise). */
export const DEFAULT_CONFIG: Readonly<ProducerConfig> = Object.freeze({
  aggregationEnabled: true,
  aggregationMaxCount: 4294967295,
  aggregationMaxSize: 51200,
  collectionMaxCount: 500,
  collectionMaxSize: 5242880,
  maxUserRecordSize: 1048576,
  recordMaxBufferedTimeMs: 100,
  recordTtlMs: 30000,
  rateLimit: 150,
  failIfThrottled: false,
  maxOutstandingRecords: 100000,
  maxOutstandingBytes: 268435456,
  maxInFlightRequests: 24,
  requestTimeoutMs: 6000,
  metricsLevel: 'none',
  metricsGranularity: 'shard',
  metricsNamespace: 'KinesisProducerLibrary',
});

type Rule =
  | { kind: 'boolean' }
  | { kind: 'integer'; min: number; max: number }
  | { kind: 'number'; min: number; max: number }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'namespace' };

const RULES: { readonly [K in keyof ProducerConfig]: Rule } = {
  aggregationEnabled: { kind: 'boolean' },
  aggregationMaxCount: { kind: 'integer', min: 1, max: 4294967295 },
  aggregationMaxSize: { kind: 'integer', min: 64, max: 1048576 },
  collectionMaxCount: { kind: 'integer', min: 1, max: 500 },
  collectionMaxSize: { kind: 'integer', min: 52224, max: 5242880 },
  maxUserRecordSize: { kind: 'integer', min: 64, max: 10485760 },
  recordMaxBufferedTimeMs: { kind: 'number', min: 0, max: 3600000 },
  recordTtlMs: { kind: 'number', min: 100, max: 86400000 },
  rateLimit: { kind: 'number', min: 1, max: 10000 },
  failIfThrottled: { kind: 'boolean' },
  maxOutstandingRecords: { kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER },
  maxOutstandingBytes: { kind: 'integer', min: 1048576, max: Number.MAX_SAFE_INTEGER },
  maxInFlightRequests: { kind: 'integer', min: 1, max: 256 },
  requestTimeoutMs: { kind: 'number', min: 100, max: 600000 },
  metricsLevel: { kind: 'enum', values: ['none', 'summary', 'detailed'] },
  metricsGranularity: { kind: 'enum', values: ['global', 'stream', 'shard'] },
  metricsNamespace: { kind: 'namespace' },
};

/** The names of every ProducerConfig field, in table order. */
export const CONFIG_FIELDS = Object.keys(RULES) as readonly (keyof ProducerConfig)[];

function allowedText(rule: Rule): string {
  switch (rule.kind) {
    case 'boolean':
      return 'true or false';
    case 'integer':
      return rule.max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${rule.min}` : `an integer ${rule.min} … ${rule.max}`;
    case 'number':
      return `a number ${rule.min} … ${rule.max}`;
    case 'enum':
      return rule.values.map((v) => `'${v}'`).join(' | ');
    case 'namespace':
      return "1–255 characters, not starting with 'AWS/'";
  }
}

function checkField(field: string, rule: Rule, value: unknown): void {
  let ok: boolean;
  switch (rule.kind) {
    case 'boolean':
      ok = typeof value === 'boolean';
      break;
    case 'integer':
      ok = typeof value === 'number' && Number.isInteger(value) && value >= rule.min && value <= rule.max;
      break;
    case 'number':
      ok = typeof value === 'number' && Number.isFinite(value) && value >= rule.min && value <= rule.max;
      break;
    case 'enum':
      ok = typeof value === 'string' && rule.values.includes(value);
      break;
    case 'namespace':
      ok = typeof value === 'string' && value.length >= 1 && value.length <= 255 && !value.startsWith('AWS/');
      break;
  }
  if (!ok) throw new ValidationError(field, value, allowedText(rule));
}

/**
 * Checks every ProducerConfig field present in `options` (other keys are ignored) and returns the
 * full config with defaults filled in. An explicit `undefined` means "use the default".
 *
 * @throws ValidationError naming the first bad field, its value and the allowed range.
 */
export function resolveConfig(options: Partial<ProducerConfig> = {}): ProducerConfig {
  checkOptionsObject(options);
  const config: ProducerConfig = { ...DEFAULT_CONFIG };
  for (const field of CONFIG_FIELDS) {
    const value = (options as Record<string, unknown>)[field];
    if (value === undefined) continue;
    checkField(field, RULES[field], value);
    (config as unknown as Record<string, unknown>)[field] = value;
  }
  return config;
}

/*
 * The options every producer and operator shares beside the ProducerConfig fields. Checked when it is
 * created, like the config (ARCHITECTURE.md "Configuration"): a wrong kind found only on the first
 * record would surface far from the mistake, as a TypeError or an error of the whole stream.
 */

/** @throws ValidationError unless `options` is an object (JavaScript callers can pass anything). */
export function checkOptionsObject(options: unknown): asserts options is object {
  if (typeof options !== 'object' || options === null) throw new ValidationError('options', options, 'an object');
}

/**
 * `scheduler`, or `asyncScheduler` when undefined.
 * @throws ValidationError unless it is an rxjs `SchedulerLike` (`now` and `schedule` methods).
 */
export function resolveScheduler(scheduler: unknown): SchedulerLike {
  if (scheduler === undefined) return asyncScheduler;
  const s = scheduler as Partial<SchedulerLike> | null;
  if (typeof s?.now !== 'function' || typeof s.schedule !== 'function') {
    throw new ValidationError('scheduler', scheduler, 'an rxjs SchedulerLike (now and schedule methods), e.g. asyncScheduler or a TestScheduler');
  }
  return scheduler as SchedulerLike;
}

/** @throws ValidationError unless `value` is undefined or has a `subscribe` method (an Observable). */
export function checkObservable(field: string, value: unknown): asserts value is Observable<unknown> | undefined {
  if (value !== undefined && typeof (value as { subscribe?: unknown } | null)?.subscribe !== 'function') {
    throw new ValidationError(field, value, 'an Observable');
  }
}

/**
 * A duration option in ms, or `fallback` when undefined.
 * @throws ValidationError unless it is a finite number ≥ `min`.
 */
export function checkMs(field: string, value: unknown, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ValidationError(field, value, `a finite number ≥ ${min} (ms)`);
  }
  return value;
}
