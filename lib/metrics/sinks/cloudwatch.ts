/**
 * Mirrors the KPL's CloudWatch upload (`metrics_manager.cc`, kpl.md §9): one datum per series
 * with `StatisticValues{Sum, Minimum, Maximum, SampleCount}`, its unit and a wall-clock
 * `Timestamp`, in the fewest PutMetricData calls that keep ≤ 20 datums and ≤ 38 KiB each.
 *
 * Fixes aiokpl D6 (no unit, no timestamp, chunks of 1000, uncaught errors) and KPL #690 (an
 * expired STS token flooded the log): each failure kind is logged once, every failure is counted,
 * and only the error's name and a redacted message are ever logged.
 *
 * The 38 KiB limit is measured on the AWS query encoding the KPL used
 * (`MetricData.member.N.…=…&…`); newer SDKs may send a smaller JSON/CBOR body, so this errs on
 * the safe side. `@aws-sdk/client-cloudwatch` is an optional peer, loaded only when no
 * `client`/`createCommand` is given.
 */
import { ValidationError } from '../../config';
import type { MetricUnit } from '../metric-names';
import type { MetricExport, MetricsSink } from '../metrics-sink';
import { loadOptionalPeer } from './optional-peer';

/** One CloudWatch datum as rxkpl builds it (a subset of the SDK's `MetricDatum`). */
export interface CloudWatchDatum {
  MetricName: string;
  Dimensions: { Name: string; Value: string }[];
  StatisticValues: { SampleCount: number; Sum: number; Minimum: number; Maximum: number };
  Unit: MetricUnit;
  Timestamp: Date;
}

/** The PutMetricData input rxkpl builds (a subset of the SDK's `PutMetricDataCommandInput`). */
export interface PutMetricDataInput {
  Namespace: string;
  MetricData: CloudWatchDatum[];
}

/** What the sink hands to `client.send`: the SDK's `PutMetricDataCommand`, or your own object. */
export interface PutMetricDataCommandLike {
  readonly input: PutMetricDataInput;
}

/** The narrowest CloudWatch client the sink needs (`CloudWatchClient` fits). */
export interface CloudWatchClientLike<C> {
  send(command: C): Promise<unknown>;
}

/** Where failure messages go. `console` fits. */
export interface MetricsLogger {
  warn(message: string): void;
}

/**
 * `T`, but not a place TypeScript infers `T` from (the pre-5.4 spelling of `NoInfer<T>`): the
 * command type comes from `createCommand`, never from the SDK client's overloaded generic `send`
 * (which would widen it to `Command<ServiceInputTypes, …>`, to which `PutMetricDataCommand` is not assignable).
 */
export type NotInferred<T> = [T][T extends unknown ? 0 : never];

/** Options of {@link cloudWatchSink}. */
export interface CloudWatchSinkOptions<C = PutMetricDataCommandLike> {
  /** CloudWatch namespace; the producer passes `metricsNamespace` ('KinesisProducerLibrary'). */
  namespace: string;
  /**
   * A client; default `new CloudWatchClient({ region })` from '@aws-sdk/client-cloudwatch'. With
   * the SDK's client, also pass `createCommand: (input) => new PutMetricDataCommand(input)`.
   */
  client?: CloudWatchClientLike<NotInferred<C>>;
  /** Builds the command; default `new PutMetricDataCommand(input)` from '@aws-sdk/client-cloudwatch'. */
  createCommand?: (input: PutMetricDataInput) => C;
  /** Region for the default client. */
  region?: string;
  /** Datums per call, 1 … 1000. Default 20 (the KPL's). */
  maxDatumsPerRequest?: number;
  /** Encoded request size limit in bytes. Default 38 × 1024 (the KPL's). */
  maxRequestBytes?: number;
  /** Gets one line per failure kind (first occurrence only). Default `console`. */
  logger?: MetricsLogger;
}

/** Counters of a {@link cloudWatchSink}. */
export interface CloudWatchSinkStats {
  /** PutMetricData calls made. */
  readonly requests: number;
  /** Datums in calls that succeeded. */
  readonly datumsSent: number;
  /** Failed calls by error name (e.g. `ExpiredTokenException`). */
  readonly failures: Readonly<Record<string, number>>;
}

/** A {@link MetricsSink} that uploads to CloudWatch; see {@link cloudWatchSink}. */
export interface CloudWatchSink extends MetricsSink {
  readonly stats: CloudWatchSinkStats;
}

interface CloudWatchModule {
  CloudWatchClient: new (config: { region?: string }) => CloudWatchClientLike<unknown> & { destroy?(): void };
  PutMetricDataCommand: new (input: PutMetricDataInput) => unknown;
}

const FEATURE = 'cloudWatchSink';

/**
 * Turns an export into datums, one per series (kpl.md §9: StatisticSet, unit, Timestamp = now).
 *
 * ```text
 * { name: 'AllErrors', unit: 'Count', dimensions: { StreamName: 'a' }, count: 3, sum: 1, min: 0, max: 1 }
 *   → { MetricName: 'AllErrors', Dimensions: [{ Name: 'StreamName', Value: 'a' }],
 *       StatisticValues: { SampleCount: 3, Sum: 1, Minimum: 0, Maximum: 1 }, Unit: 'Count', Timestamp }
 * ```
 *
 * @example const datums = toCloudWatchDatums(batch);
 */
export function toCloudWatchDatums(batch: MetricExport): CloudWatchDatum[] {
  const timestamp = new Date(batch.timestampMs);
  return batch.series.map((s) => ({
    MetricName: s.name,
    Dimensions: Object.entries(s.dimensions).map(([Name, Value]) => ({ Name, Value })),
    StatisticValues: { SampleCount: s.count, Sum: s.sum, Minimum: s.min, Maximum: s.max },
    Unit: s.unit,
    Timestamp: timestamp,
  }));
}

const enc = (value: string | number): number => encodeURIComponent(String(value)).length;

/**
 * Bytes of `Action=PutMetricData&Version=2010-08-01&Namespace=…` in the AWS query encoding.
 *
 * @example queryEnvelopeBytes('KPL') // 53
 */
export function queryEnvelopeBytes(namespace: string): number {
  return 'Action=PutMetricData&Version=2010-08-01&Namespace='.length + enc(namespace);
}

/**
 * Bytes that datum number `index` (1-based) adds to a PutMetricData request in the AWS query
 * encoding (`&MetricData.member.N.MetricName=…&…`), URL-encoded values included.
 *
 * @example queryDatumBytes(datum, 1)
 */
export function queryDatumBytes(datum: CloudWatchDatum, index: number): number {
  const p = `MetricData.member.${index}.`;
  let bytes = 1 + p.length + 'MetricName='.length + enc(datum.MetricName);
  datum.Dimensions.forEach((d, j) => {
    const q = `${p}Dimensions.member.${j + 1}.`;
    bytes += 1 + q.length + 'Name='.length + enc(d.Name) + 1 + q.length + 'Value='.length + enc(d.Value);
  });
  const sv = datum.StatisticValues;
  for (const [k, v] of [
    ['SampleCount', sv.SampleCount],
    ['Sum', sv.Sum],
    ['Minimum', sv.Minimum],
    ['Maximum', sv.Maximum],
  ] as const) {
    bytes += 1 + p.length + `StatisticValues.${k}=`.length + enc(v);
  }
  bytes += 1 + p.length + 'Unit='.length + enc(datum.Unit);
  bytes += 1 + p.length + 'Timestamp='.length + enc(datum.Timestamp.toISOString());
  return bytes;
}

/**
 * Splits datums, in order, into the fewest requests with ≤ `maxDatums` datums and ≤ `maxBytes`
 * encoded bytes each (a single datum over `maxBytes` goes alone).
 *
 * ```text
 * 45 datums, maxDatums 20  →  [20] [20] [5]
 * ```
 *
 * @example batchDatums(datums, 'KinesisProducerLibrary', 20, 38 * 1024)
 */
export function batchDatums(
  datums: readonly CloudWatchDatum[],
  namespace: string,
  maxDatums: number,
  maxBytes: number,
): CloudWatchDatum[][] {
  const envelope = queryEnvelopeBytes(namespace);
  const batches: CloudWatchDatum[][] = [];
  let current: CloudWatchDatum[] = [];
  let bytes = envelope;
  for (const datum of datums) {
    let size = queryDatumBytes(datum, current.length + 1);
    if (current.length > 0 && (current.length >= maxDatums || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = envelope;
      size = queryDatumBytes(datum, 1);
    }
    current.push(datum);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

// #690: never log credentials. AWS messages do not carry secrets, but signed URLs and access key ids can appear.
function redact(message: string): string {
  return message
    .replace(/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, '$1****************')
    .replace(/(Credential|Signature|X-Amz-Security-Token|X-Amz-Credential|X-Amz-Signature)=[^&\s"]+/gi, '$1=…')
    .slice(0, 300);
}

function errorName(error: unknown): string {
  if (error instanceof Error) return error.name || 'Error';
  if (typeof error === 'object' && error !== null) {
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name.length > 0) return name;
  }
  return 'UnknownError';
}

/**
 * A {@link MetricsSink} that uploads each export to CloudWatch as statistic sets, ≤ 20 datums and
 * ≤ 38 KiB per PutMetricData call, as the KPL does (kpl.md §9).
 *
 * ```text
 * export({ timestampMs, series: 45 deltas })
 *   → send(PutMetricData 20 datums) → send(20) → send(5)      sequentially
 *   datum = { MetricName, Dimensions, StatisticValues{Sum, Minimum, Maximum, SampleCount}, Unit, Timestamp }
 * ```
 *
 * - Errors: every call is tried; a failed call is counted by error name and logged the first time
 *   its kind is seen; if any call failed, `export` then rejects with one summary Error (the
 *   uploader counts it and goes on). Its datums are dropped, as the KPL drops them.
 * - Close: destroys the client only if the sink created it.
 *
 * @example
 * startMetricsUploader({ recorder, sink: cloudWatchSink({ namespace: 'KinesisProducerLibrary', region: 'eu-west-1' }) });
 *
 * @param options - namespace, client or region, batching limits, logger.
 * @returns the sink, with `stats`.
 */
export function cloudWatchSink<C = PutMetricDataCommandLike>(options: CloudWatchSinkOptions<C>): CloudWatchSink {
  const { namespace, region, maxDatumsPerRequest = 20, maxRequestBytes = 38 * 1024, logger = console } = options;
  if (typeof namespace !== 'string' || namespace.length === 0 || namespace.length > 255 || namespace.startsWith('AWS/')) {
    throw new ValidationError('namespace', namespace, "1–255 characters, not starting with 'AWS/'");
  }
  if (!Number.isInteger(maxDatumsPerRequest) || maxDatumsPerRequest < 1 || maxDatumsPerRequest > 1000) {
    throw new ValidationError('maxDatumsPerRequest', maxDatumsPerRequest, 'an integer 1 … 1000');
  }
  if (typeof maxRequestBytes !== 'number' || !(maxRequestBytes >= 1024)) {
    throw new ValidationError('maxRequestBytes', maxRequestBytes, 'a number ≥ 1024');
  }

  let client = options.client as CloudWatchClientLike<unknown> | undefined;
  let createCommand = options.createCommand as ((input: PutMetricDataInput) => unknown) | undefined;
  let ownedClient: { destroy?(): void } | undefined;
  if (client === undefined || createCommand === undefined) {
    const sdk = loadOptionalPeer<CloudWatchModule>('@aws-sdk/client-cloudwatch', FEATURE);
    if (createCommand === undefined) createCommand = (input) => new sdk.PutMetricDataCommand(input);
    if (client === undefined) {
      const created = new sdk.CloudWatchClient(region === undefined ? {} : { region });
      client = created;
      ownedClient = created;
    }
  }
  const send = client;
  const build = createCommand;

  let requests = 0;
  let datumsSent = 0;
  const failures: Record<string, number> = {};

  async function exportBatch(batch: MetricExport): Promise<void> {
    const chunks = batchDatums(toCloudWatchDatums(batch), namespace, maxDatumsPerRequest, maxRequestBytes);
    let failed = 0;
    const kinds = new Set<string>();
    for (const chunk of chunks) {
      requests++;
      try {
        await send.send(build({ Namespace: namespace, MetricData: chunk }));
        datumsSent += chunk.length;
      } catch (error) {
        failed++;
        const kind = errorName(error);
        kinds.add(kind);
        failures[kind] = (failures[kind] ?? 0) + 1;
        if (failures[kind] === 1) {
          const message = error instanceof Error ? redact(error.message) : '';
          try {
            logger.warn(`rxkpl metrics: CloudWatch PutMetricData failed (${kind}): ${message} (further ${kind} failures are counted, not logged)`);
          } catch {
            // a broken logger must not turn a metrics failure into a pipeline failure
          }
        }
      }
    }
    if (failed > 0) {
      const error = new Error(`${failed} of ${chunks.length} PutMetricData calls failed (${[...kinds].join(', ')})`);
      error.name = 'MetricsUploadError';
      throw error;
    }
  }

  return {
    export: exportBatch,
    close: () => {
      ownedClient?.destroy?.();
    },
    get stats(): CloudWatchSinkStats {
      return { requests, datumsSent, failures: { ...failures } };
    },
  };
}
