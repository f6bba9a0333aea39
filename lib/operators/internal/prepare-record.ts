/**
 * Record validation before anything is buffered (ARCHITECTURE.md "Record validation"), as the KPL's
 * Java wrapper does it in `KinesisProducer.addUserRecord` (kpl.md §3):
 *
 * - partitionKey: a string of 1–256 UTF-16 code units (Java `String.length()`, not bytes);
 * - data: a `Uint8Array` (used as is, not copied) or a string (sent as UTF-8), at most
 *   `maxUserRecordSize` bytes; the partition key is not counted;
 * - explicitHashKey: when present, a canonical decimal in [0, 2^128−1] (ARCHITECTURE.md). Departures:
 *   the KPL trims whitespace and accepts leading zeros, re-printing the key with Java's
 *   `BigInteger.toString()`; we refuse both, so what is sent is exactly what the user gave;
 * - streamName: the record's own, else the default; a non-empty string (the KPL: non-empty after trim).
 *
 * Shared by `shardPredict` and `KinesisProducer.put()`, so it stands alone.
 */
import { bigIntToHashKey, EXPLICIT_HASH_KEY_ALLOWED, hashKeyOfPartitionKey, parseExplicitHashKey, type HashKey } from '../../codec/hash';
import { utf8Length } from '../../codec/size';
import { ValidationError } from '../../config';

/** What {@link prepareRecord} needs to know. */
export interface PrepareRecordOptions {
  /** The stream of records that name none. */
  defaultStreamName?: string;
  /** Largest data in bytes (already checked by `resolveConfig`). */
  maxUserRecordSize: number;
}

/** A valid record's routing and bytes. */
export interface PreparedRecord {
  readonly streamName: string;
  readonly data: Uint8Array;
  readonly hashKey: HashKey;
  readonly explicitHashKey: string | undefined;
}

/** Partition keys longer than this many UTF-16 code units are refused (kpl.md §3). */
export const MAX_PARTITION_KEY_LENGTH = 256;

/** String.prototype.isWellFormed (Node 20+; not yet in TypeScript's ES2022 lib). */
export function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Checks one user record and computes its bytes and hash key: md5(partitionKey) unless an explicit
 * hash key is given (kpl.md §3).
 *
 * ```text
 * { partitionKey: 'a', data: 'x' }  →  { streamName: default, data: [0x78], hashKey: md5('a'), explicitHashKey: undefined }
 * { partitionKey: 'a', data: 'x', explicitHashKey: '7' }  →  hashKey = 7, explicitHashKey: '7'
 * { partitionKey: 'a', data: 'x', explicitHashKey: '007' }  →  ValidationError (not canonical)
 * ```
 *
 * @example prepareRecord({ partitionKey: 'user-1', data: '{"n":1}' }, { defaultStreamName: 'orders', maxUserRecordSize: 1048576 })
 *
 * @param record - what the user gave (checked, so `unknown`).
 * @param options - the default stream and the data size limit.
 * @returns the record's stream, bytes, hash key and canonical explicit hash key.
 * @throws ValidationError naming the first bad field, its value and what is allowed.
 */
export function prepareRecord(record: unknown, options: PrepareRecordOptions): PreparedRecord {
  const checked = validateRecord(record, options);
  const data = typeof checked.data === 'string' ? utf8Bytes(checked.data) : checked.data;
  const ehk = checked.explicitHashKey;
  const hashKey = ehk === undefined ? hashKeyOfPartitionKey(checked.partitionKey) : bigIntToHashKey(ehk);
  return { streamName: checked.streamName, data, hashKey, explicitHashKey: ehk?.toString() };
}

/**
 * A string record's data as bytes. `Buffer.from` slices short strings out of Node's shared pool: one
 * object per record, where `TextEncoder#encode` gave each its own ArrayBuffer (~300 B of heap and
 * native memory while the record waits, and an ArrayBuffer for the GC to sweep). Same bytes (U+FFFD
 * for a lone surrogate, which validation refuses anyway).
 */
export function utf8Bytes(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

/** A record that passed {@link validateRecord}: its fields, read once, nothing encoded or hashed. */
export interface CheckedRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array | string;
  /** The explicit hash key's value, when the record has one. */
  readonly explicitHashKey: bigint | undefined;
  readonly streamName: string;
}

/**
 * Every check of {@link prepareRecord}, without encoding the data or hashing the key: what a
 * caller that only needs to accept or refuse a record (the producer class's `put`) should pay.
 *
 * @throws ValidationError naming the first bad field, its value and what is allowed.
 */
export function validateRecord(record: unknown, options: PrepareRecordOptions): CheckedRecord {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new ValidationError('record', record, 'an object with partitionKey and data');
  }
  let partitionKey: unknown, data: unknown, explicitHashKey: unknown, own: unknown;
  try {
    ({ partitionKey, data, explicitHashKey, streamName: own } = record as Record<string, unknown>);
  } catch (err) {
    // A getter that throws: the record cannot be read, which is the caller's mistake, not a crash.
    const reason = err instanceof Error ? err.message : String(err);
    throw new ValidationError('record', record, `an object whose fields can be read (reading it threw: ${reason})`);
  }

  if (typeof partitionKey !== 'string' || partitionKey.length < 1 || partitionKey.length > MAX_PARTITION_KEY_LENGTH) {
    throw new ValidationError('partitionKey', partitionKey, `a string of 1–${MAX_PARTITION_KEY_LENGTH} UTF-16 code units`);
  }
  // UTF-8 turns a lone surrogate into U+FFFD: two different keys would become one, and a consumer
  // would read back a key that was never put.
  if (!isWellFormed(partitionKey)) {
    throw new ValidationError('partitionKey', partitionKey, 'well-formed UTF-16 (no lone surrogates)');
  }

  let byteLength: number;
  if (data instanceof Uint8Array) byteLength = data.length;
  else if (typeof data === 'string') {
    if (!isWellFormed(data)) throw new ValidationError('data', data, 'bytes, or a well-formed UTF-16 string (no lone surrogates)');
    byteLength = utf8Length(data); // exact for a well-formed string
  } else throw new ValidationError('data', data, 'a Uint8Array or a string');
  if (byteLength > options.maxUserRecordSize) {
    const measured = typeof data === 'string' ? ` (this string is ${byteLength} bytes as UTF-8)` : '';
    throw new ValidationError('data', data, `at most ${options.maxUserRecordSize} bytes${measured}`);
  }

  let ehk: bigint | undefined;
  if (explicitHashKey !== undefined) {
    ehk = typeof explicitHashKey === 'string' ? parseExplicitHashKey(explicitHashKey) : undefined;
    if (ehk === undefined) {
      throw new ValidationError('explicitHashKey', explicitHashKey, EXPLICIT_HASH_KEY_ALLOWED);
    }
  }

  const streamName = own !== undefined ? own : options.defaultStreamName;
  if (typeof streamName !== 'string' || streamName.trim().length === 0) {
    throw new ValidationError('streamName', streamName, "a non-empty string (the record's own, or the producer's streamName)");
  }

  return { partitionKey, data, explicitHashKey: ehk, streamName };
}
