/**
 * The KPL's metric table (kpl.md §9, `metrics_constants.cc`, `metrics.md`): every metric name the
 * producer emits, its level and its unit, and the dimension keys as CloudWatch spells them.
 *
 * Departs from the KPL in one way: the KPL gives unknown names level Detailed and unit `None`;
 * here the recorder only takes a {@link MetricName}, so there are no unknown names.
 * `UnhealthyDaemon` (Java side only, kpl.md §9) is left out: rxkpl has no daemon.
 */
import type { MetricsLevel } from '../config';

/** The level at which a metric is kept: `summary` metrics are kept at both levels (kpl.md §9). */
export type MetricLevel = Exclude<MetricsLevel, 'none'>;

/** The CloudWatch unit a metric is uploaded with (kpl.md §9). */
export type MetricUnit = 'Count' | 'Bytes' | 'Milliseconds';

/** One row of the KPL's metric table. */
export interface MetricDefinition {
  readonly name: MetricName;
  readonly level: MetricLevel;
  readonly unit: MetricUnit;
  /** What one sample is, as kpl.md §9 says. */
  readonly description: string;
}

/** Every metric name, in kpl.md §9 table order. */
export const METRIC_NAMES = [
  'UserRecordsReceived',
  'UserRecordsPending',
  'UserRecordsPut',
  'UserRecordsDataPut',
  'UserRecordExpired',
  'KinesisRecordsPut',
  'KinesisRecordsDataPut',
  'ErrorsByCode',
  'AllErrors',
  'RetriesPerRecord',
  'BufferingTime',
  'RequestTime',
  'UserRecordsPerKinesisRecord',
  'KinesisRecordsPerPutRecordsRequest',
  'UserRecordsPerPutRecordsRequest',
] as const;

/** A KPL metric name (kpl.md §9), spelled as the KPL and CloudWatch spell it. */
export type MetricName = (typeof METRIC_NAMES)[number];

/** The dimension keys, exactly as the KPL uploads them (kpl.md §9). */
export const STREAM_NAME_DIMENSION = 'StreamName';
/** See {@link STREAM_NAME_DIMENSION}. */
export const SHARD_ID_DIMENSION = 'ShardId';
/** See {@link STREAM_NAME_DIMENSION}. */
export const ERROR_CODE_DIMENSION = 'ErrorCode';

/** The dimensions of one series: `ErrorCode`, `StreamName`, `ShardId` (in that order) and any extra dimensions. */
export type MetricDimensions = Readonly<Record<string, string>>;

function row(name: MetricName, level: MetricLevel, unit: MetricUnit, description: string): MetricDefinition {
  return Object.freeze({ name, level, unit, description });
}

/**
 * The KPL's metric table, verbatim from kpl.md §9: level and unit of every {@link MetricName}.
 *
 * ```text
 * METRICS.BufferingTime  →  { level: 'summary', unit: 'Milliseconds', … }
 * ```
 *
 * The Summary set is the Javadoc's (UserRecordsPut, KinesisRecordsPut, ErrorsByCode, AllErrors,
 * BufferingTime) plus UserRecordExpired, which the KPL's code also puts in Summary.
 *
 * @example if (METRICS[name].unit === 'Milliseconds') histogram.record(value)
 */
export const METRICS: Readonly<Record<MetricName, MetricDefinition>> = Object.freeze({
  UserRecordsReceived: row('UserRecordsReceived', 'detailed', 'Count', '1 per user record received'),
  UserRecordsPending: row('UserRecordsPending', 'detailed', 'Count', 'outstanding user records, sampled every 200 ms'),
  UserRecordsPut: row('UserRecordsPut', 'summary', 'Count', '1 per user record put, 0 per user record failed'),
  UserRecordsDataPut: row('UserRecordsDataPut', 'detailed', 'Bytes', 'data length of each user record put'),
  UserRecordExpired: row('UserRecordExpired', 'summary', 'Count', '1 per user record whose last attempt is "Expired"'),
  KinesisRecordsPut: row('KinesisRecordsPut', 'summary', 'Count', '1 per Kinesis record put, 0 per one failed'),
  KinesisRecordsDataPut: row('KinesisRecordsDataPut', 'detailed', 'Bytes', 'size of each Kinesis record put'),
  ErrorsByCode: row('ErrorsByCode', 'summary', 'Count', '1 per error, with its ErrorCode'),
  AllErrors: row('AllErrors', 'summary', 'Count', '1 per error, 0 per Kinesis record put'),
  RetriesPerRecord: row('RetriesPerRecord', 'detailed', 'Count', 'attempts − 1 of each user record'),
  BufferingTime: row('BufferingTime', 'summary', 'Milliseconds', 'per attempt: start − (arrival or previous end)'),
  RequestTime: row('RequestTime', 'detailed', 'Milliseconds', 'duration of each PutRecords request'),
  UserRecordsPerKinesisRecord: row('UserRecordsPerKinesisRecord', 'detailed', 'Count', 'user records per Kinesis record'),
  KinesisRecordsPerPutRecordsRequest: row(
    'KinesisRecordsPerPutRecordsRequest',
    'detailed',
    'Count',
    'Kinesis records per PutRecords request',
  ),
  UserRecordsPerPutRecordsRequest: row(
    'UserRecordsPerPutRecordsRequest',
    'detailed',
    'Count',
    'user records per PutRecords request',
  ),
});

const LEVEL_RANK: Readonly<Record<MetricsLevel, number>> = { none: 0, summary: 100, detailed: 200 };

/**
 * Whether a metric is kept at a producer's `metricsLevel`: its level ≤ the producer's
 * (`None=0 < Summary=100 < Detailed=200`, kpl.md §9 `metrics_constants.cc filter`).
 *
 * ```text
 * isMetricKept('RequestTime', 'summary')    → false   (Detailed metric)
 * isMetricKept('BufferingTime', 'summary')  → true
 * ```
 *
 * @example isMetricKept('UserRecordsPut', config.metricsLevel)
 *
 * @param name - the metric.
 * @param level - the producer's `metricsLevel`.
 * @returns true when the metric is recorded at that level.
 */
export function isMetricKept(name: MetricName, level: MetricsLevel): boolean {
  return level !== 'none' && LEVEL_RANK[METRICS[name].level] <= LEVEL_RANK[level];
}

/**
 * Whether a string is a {@link MetricName}.
 *
 * ```text
 * isMetricName('UserRecordsPut') → true     isMetricName('ExpiredRecords') → false (aiokpl's name, not the KPL's)
 * ```
 *
 * @example if (isMetricName(input)) recorder.query(input)
 *
 * @param name - any string.
 * @returns true when the string names a KPL metric.
 */
export function isMetricName(name: string): name is MetricName {
  return Object.prototype.hasOwnProperty.call(METRICS, name);
}
