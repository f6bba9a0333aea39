/**
 * The records that flow through rxkpl: what the user gives (`UserRecord`), what the user gets back
 * (`RecordResult` with its `Attempt`s), and the internal carriers between the pipeline stages
 * (`BufferedRecord` → `KinesisRecord` → `PutRecordsBatch` → `SendOutcome` → `Classified`).
 *
 * Mirrors the KPL's `UserRecord`, `KinesisRecord`, `PutRecordsRequest` and `Attempt`
 * (kpl.md §2, §5, §10). Carriers are plain data (no methods, no timers), so a record can later be
 * written to disk (ROADMAP.md, durable spool). A carrier is never mutated once emitted, except the
 * `deadline` of a `KinesisRecord`, which `collectBatches` may extend on entry (kpl.md §5, #280).
 */
import type { PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import type { HashKey } from './codec/hash';

/** One record as the user hands it to the producer. */
export interface UserRecord {
  /** 1–256 characters; hashed with MD5 to choose the shard unless `explicitHashKey` is given. */
  readonly partitionKey: string;
  /** The payload: bytes, or a string sent as UTF-8. At most `maxUserRecordSize` bytes. */
  readonly data: Uint8Array | string;
  /** A canonical decimal in [0, 2^128−1] that routes the record instead of the partition key's hash. */
  readonly explicitHashKey?: string;
  /** The stream to write to; wins over the producer's `streamName`. */
  readonly streamName?: string;
}

/** One trip of a record to Kinesis (or to the expiry path). Times are `scheduler.now()` ms. */
export interface Attempt {
  readonly startedAt: number;
  readonly endedAt: number;
  /** Time buffered before this attempt: start − (arrival, or the previous attempt's end). */
  readonly delayMs: number;
  /** endedAt − startedAt. */
  readonly durationMs: number;
  readonly success: boolean;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly shardId?: string;
  readonly sequenceNumber?: string;
}

/** The one terminal outcome of a user record: success, or final failure saying why. */
export interface RecordResult {
  readonly record: UserRecord;
  readonly success: boolean;
  readonly shardId?: string;
  /** Shared by every user record of one aggregated Kinesis record. */
  readonly sequenceNumber?: string;
  /** On failure, the final attempt's code (never absent on failure: kpl.md §12 item 16). */
  readonly errorCode?: string;
  readonly errorMessage?: string;
  /**
   * Every attempt, oldest first. Read-only: the results of user records that went out in one
   * aggregated record and arrived in the same ms share one frozen array (a copy per record was a
   * measurable share of the producer's cost; copy it before changing it).
   */
  readonly attempts: readonly Attempt[];
}

/**
 * A user record inside the pipeline, after validation and shard prediction (the KPL's
 * `UserRecord` with its `TimeSensitive` fields, kpl.md §5). Immutable: a retry or a new
 * prediction makes a new carrier (`{ ...record, attempts: [...record.attempts, attempt] }`).
 */
export interface BufferedRecord {
  /** The record exactly as the user gave it (same object reference). */
  readonly record: UserRecord;
  /** The stream this record goes to (the record's own `streamName`, else the producer's). */
  readonly streamName: string;
  /** The payload as bytes: the user's `Uint8Array` (not copied) or the UTF-8 encoding of a string. */
  readonly data: Uint8Array;
  /** 128-bit hash key: the explicit hash key if given, else md5(partitionKey) (kpl.md §3). */
  readonly hashKey: HashKey;
  /** Canonical decimal explicit hash key, only when the user gave one (goes in the EHK table). */
  readonly explicitHashKey: string | undefined;
  /** Shard id predicted from the shard map; `undefined` before the map's first load. */
  readonly predictedShard: string | undefined;
  /** When the record entered the pipeline (scheduler ms). */
  readonly arrival: number;
  /** When it should be sent at the latest (arrival + recordMaxBufferedTimeMs, or a retry's backoff). */
  readonly deadline: number;
  /** When it expires (arrival + recordTtlMs, saturated so it never overflows). */
  readonly expiration: number;
  /** Every attempt so far, oldest first. */
  readonly attempts: readonly Attempt[];
  /**
   * `data.byteLength`, read once when the carrier is built. Stages that need the size later (the
   * results' byte counts, long after arrival) read it here: the carrier is still in cache then, the
   * user's `Uint8Array` no longer is. Set by `shardPredict`; a carrier built by hand may leave it out
   * (readers then fall back to `data.byteLength`, `dataBytesOf` in `operators/internal/attempts.ts`).
   */
  readonly dataBytes?: number;
  /**
   * Opaque to every stage, copied unchanged by every copy of the carrier: what the producer put the
   * record with, handed back with its result (the class's per-put entry), so a result finds its put
   * without a lookup by record. Internal: `undefined` for carriers of the public operators.
   * @internal
   */
  readonly token?: unknown;
}

/**
 * One record as put to Kinesis: one user record sent raw, or several of one predicted shard
 * aggregated (kpl.md §2). Built by `aggregateByShard`.
 */
export interface KinesisRecord {
  readonly streamName: string;
  /** The predicted shard shared by every user record inside; `undefined` when unpredicted. */
  readonly predictedShard: string | undefined;
  /** The user records inside, in deadline order; never empty. */
  readonly records: readonly BufferedRecord[];
  /** `"a"` when aggregated (more than one record), else the record's own partition key. */
  readonly partitionKey: string;
  /** Always the decimal hash key of `records[0]` (the KPL sets it for single records too). */
  readonly explicitHashKey: string;
  /** The bytes on the wire: the raw data of a single record, or the aggregated blob. */
  readonly data: Uint8Array;
  /** Exact serialized size of `data` in bytes (what the limiter's byte bucket is charged). */
  readonly size: number;
  /** Earliest deadline of the records inside; `collectBatches` may extend it on entry. */
  deadline: number;
  /** Earliest expiration of the records inside. */
  readonly expiration: number;
}

/** One PutRecords request's worth of Kinesis records, all for one stream. Built by `collectBatches`. */
export interface PutRecordsBatch {
  readonly streamName: string;
  /** 1 … collectionMaxCount records. */
  readonly records: readonly KinesisRecord[];
  /** Σ (UTF-8 partition key length + data length): how the backend counts its 5 MiB limit (kpl.md §6). */
  readonly size: number;
}

/** The per-record part of a PutRecords answer that rxkpl reads. */
export type PutRecordsResponseEntry = Pick<PutRecordsResultEntry, 'SequenceNumber' | 'ShardId' | 'ErrorCode' | 'ErrorMessage'>;

/** What one PutRecords call came to — or the expiry path of the limiter. Emitted, never thrown. */
export type SendOutcome = {
  readonly batch: PutRecordsBatch;
  readonly startedAt: number;
  readonly endedAt: number;
} & (
  | { readonly kind: 'answered'; readonly records: readonly PutRecordsResponseEntry[] }
  | { readonly kind: 'unanswered'; readonly errorCode: string; readonly errorMessage: string }
  | { readonly kind: 'expired' }
);

/** What `retryClassify` makes of each user record of an outcome: a terminal result, or a retry. */
export type Classified =
  | { readonly kind: 'result'; readonly result: RecordResult }
  | { readonly kind: 'retry'; readonly record: BufferedRecord };

/**
 * True for a `RecordResult` (as opposed to a carrier): splits what `shardPredict` emits — carriers
 * go on to `aggregateByShard`, results (refused records) are final.
 *
 * @example predicted$.pipe(filter(isRecordResult)) // records refused by validation or a failed shard map
 */
export function isRecordResult(value: unknown): value is RecordResult {
  return typeof value === 'object' && value !== null && 'success' in value && 'attempts' in value && 'record' in value;
}

/**
 * True for a `SendOutcome` (as opposed to a `KinesisRecord`): splits what `rateLimitPerShard` emits —
 * admitted records go on to `collectBatches`, `expired` outcomes straight to `retryClassify`.
 *
 * @example limited$.pipe(filter(isSendOutcome)) // records that expired waiting in the limiter
 */
export function isSendOutcome(value: KinesisRecord | SendOutcome): value is SendOutcome {
  return 'kind' in value;
}

/** For exhaustive `switch`es over `kind`: a new kind fails to compile. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
