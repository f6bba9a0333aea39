/**
 * The KPL aggregation format (kpl.md §2): `F3 89 9A C2` + a proto2 `AggregatedRecord` + the MD5 of
 * the protobuf bytes. Encoding is hand-written (no protobufjs at run time) and byte-identical to
 * the C++ KPL and aws-kinesis-agg: key tables de-duplicated in first-seen order, all partition-key
 * entries, then all explicit-hash-key entries, then the records; inside a record the partition key
 * index, the optional explicit hash key index, then the data.
 *
 * ```text
 * message AggregatedRecord { repeated string partition_key_table = 1;   // tag 0x0A
 *                            repeated string explicit_hash_key_table = 2; // tag 0x12
 *                            repeated Record records = 3; }              // tag 0x1A
 * message Record { required uint64 partition_key_index = 1;               // tag 0x08
 *                  optional uint64 explicit_hash_key_index = 2;           // tag 0x10
 *                  required bytes data = 3;                               // tag 0x1A
 *                  repeated Tag tags = 4; }                               // tag 0x22
 * message Tag    { required string key = 1; optional string value = 2; }
 * ```
 */
import type { BufferedRecord } from '../records';
import { AGGREGATION_MAGIC, MAGIC_LENGTH, md5Bytes } from './aggregation-format';
import { AGGREGATION_OVERHEAD, utf8Length, varintLength } from './size';

export { AGGREGATION_MAGIC, isAggregated } from './aggregation-format';
export { AggregationFormatError, decodeAggregated } from './aggregation-decoder';
export type { DecodedRecord, DecodeAggregatedOptions } from './aggregation-decoder';

/** One user record to aggregate. `data` given as a string is sent as its UTF-8 bytes. */
export interface AggregationInput {
  /** The record's partition key (written to the partition key table as UTF-8). */
  readonly partitionKey: string;
  /** A canonical decimal explicit hash key; records without one omit field 2. */
  readonly explicitHashKey?: string;
  /** The payload. */
  readonly data: Uint8Array | string;
}

/* ------------------------------------------------------------------------------------------------ */
/* Writers                                                                                          */
/* ------------------------------------------------------------------------------------------------ */

const TWO_32 = 4294967296;

/** Writes n (a non-negative safe integer) as an unsigned LEB128 varint at `pos`; returns the new position. */
export function writeVarint(out: Uint8Array, pos: number, n: number): number {
  if (n < 0x80) {
    out[pos] = n;
    return pos + 1;
  }
  if (n < TWO_32) {
    let v = n >>> 0;
    while (v >= 0x80) {
      out[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    out[pos] = v;
    return pos + 1;
  }
  let v = n;
  while (v >= 0x80) {
    out[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  out[pos] = v;
  return pos + 1;
}

const encoder = new TextEncoder();

/**
 * Writes `text` as UTF-8 at `pos` (lone surrogates become U+FFFD, as `utf8Length` counts them);
 * `byteLength` is its already-known UTF-8 length. Returns the new position.
 */
function writeUtf8(out: Uint8Array, pos: number, text: string, byteLength: number): number {
  if (byteLength === text.length) {
    // ASCII (UTF-8 length equals UTF-16 length only when every unit is < 0x80).
    for (let i = 0; i < text.length; i++) out[pos + i] = text.charCodeAt(i);
    return pos + byteLength;
  }
  encoder.encodeInto(text, out.subarray(pos, pos + byteLength));
  return pos + byteLength;
}

/* ------------------------------------------------------------------------------------------------ */
/* Encoder core                                                                                     */
/* ------------------------------------------------------------------------------------------------ */

/**
 * Key table in first-seen order. The `Map` keeps insertion order, so iterating it writes the table
 * in one pass (kpl.md §2, `detail::KeySet`).
 */
function tableEntrySize(keyBytes: number): number {
  return 1 + varintLength(keyBytes) + keyBytes;
}

/**
 * The one encoder both public entry points share. `pkOf`/`ehkOf`/`dataOf` read record i; they are
 * small monomorphic functions that V8 inlines, so no per-record object is allocated.
 */
function encodeCore<T>(
  records: readonly T[],
  pkOf: (r: T) => string,
  ehkOf: (r: T) => string | undefined,
  dataOf: (r: T) => Uint8Array | string,
  knownSize: number | undefined,
): Uint8Array {
  const n = records.length;
  if (n === 0) throw new Error('encodeAggregated: cannot aggregate 0 records');

  // Pass 1: indices, lengths, exact size.
  const pkIndex = new Map<string, number>();
  const pkBytes: number[] = [];
  const ehkIndex = new Map<string, number>();
  const ehkBytes: number[] = [];
  // Per record: pk index, ehk index (−1 for none), data byte length.
  const meta = new Int32Array(n * 3);
  let body = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i];
    const pk = pkOf(r);
    let pkIdx = pkIndex.get(pk);
    if (pkIdx === undefined) {
      pkIdx = pkIndex.size;
      pkIndex.set(pk, pkIdx);
      const len = utf8Length(pk);
      pkBytes.push(len);
      body += tableEntrySize(len);
    }
    const ehk = ehkOf(r);
    let ehkIdx = -1;
    if (ehk !== undefined) {
      const known = ehkIndex.get(ehk);
      if (known === undefined) {
        ehkIdx = ehkIndex.size;
        ehkIndex.set(ehk, ehkIdx);
        const len = utf8Length(ehk);
        ehkBytes.push(len);
        body += tableEntrySize(len);
      } else ehkIdx = known;
    }
    const data = dataOf(r);
    const dataLen = typeof data === 'string' ? utf8Length(data) : data.length;
    let rec = 1 + varintLength(pkIdx) + 1 + varintLength(dataLen) + dataLen;
    if (ehkIdx >= 0) rec += 1 + varintLength(ehkIdx);
    body += 1 + varintLength(rec) + rec;
    meta[i * 3] = pkIdx;
    meta[i * 3 + 1] = ehkIdx;
    meta[i * 3 + 2] = dataLen;
  }
  const total = body + AGGREGATION_OVERHEAD;
  if (knownSize !== undefined && knownSize !== total) {
    throw new Error(`encodeBufferedRecords: size ${knownSize} given, but the records encode to ${total} bytes`);
  }

  // Pass 2: write.
  const out = new Uint8Array(total);
  out.set(AGGREGATION_MAGIC, 0);
  let pos = MAGIC_LENGTH;
  let k = 0;
  for (const pk of pkIndex.keys()) {
    const len = pkBytes[k++];
    out[pos++] = 0x0a;
    pos = writeVarint(out, pos, len);
    pos = writeUtf8(out, pos, pk, len);
  }
  k = 0;
  for (const ehk of ehkIndex.keys()) {
    const len = ehkBytes[k++];
    out[pos++] = 0x12;
    pos = writeVarint(out, pos, len);
    pos = writeUtf8(out, pos, ehk, len);
  }
  for (let i = 0; i < n; i++) {
    const pkIdx = meta[i * 3];
    const ehkIdx = meta[i * 3 + 1];
    const dataLen = meta[i * 3 + 2];
    let rec = 1 + varintLength(pkIdx) + 1 + varintLength(dataLen) + dataLen;
    if (ehkIdx >= 0) rec += 1 + varintLength(ehkIdx);
    out[pos++] = 0x1a;
    pos = writeVarint(out, pos, rec);
    out[pos++] = 0x08;
    pos = writeVarint(out, pos, pkIdx);
    if (ehkIdx >= 0) {
      out[pos++] = 0x10;
      pos = writeVarint(out, pos, ehkIdx);
    }
    out[pos++] = 0x1a;
    pos = writeVarint(out, pos, dataLen);
    const data = dataOf(records[i]);
    if (typeof data === 'string') pos = writeUtf8(out, pos, data, dataLen);
    else {
      out.set(data, pos);
      pos += dataLen;
    }
  }
  out.set(md5Bytes(out.subarray(MAGIC_LENGTH, pos)), pos);
  return out;
}

const inputPk = (r: AggregationInput): string => r.partitionKey;
const inputEhk = (r: AggregationInput): string | undefined => r.explicitHashKey;
const inputData = (r: AggregationInput): Uint8Array | string => r.data;

const bufferedPk = (r: BufferedRecord): string => r.record.partitionKey;
const bufferedEhk = (r: BufferedRecord): string | undefined => r.explicitHashKey;
const bufferedData = (r: BufferedRecord): Uint8Array => r.data;

/**
 * Encodes user records as one KPL aggregated record: magic `F3 89 9A C2`, the proto2
 * `AggregatedRecord`, and the MD5 of the protobuf bytes (kpl.md §2). Always the aggregated form,
 * even for one record (the KPL sends a lone record raw; choosing that is the caller's business).
 * Byte-identical to the C++ KPL and to aws-kinesis-agg's `RecordAggregator`.
 *
 * Partition keys and explicit hash keys are de-duplicated into tables in first-seen order; records
 * without an explicit hash key leave out field 2. String data is written as UTF-8. The output's
 * length equals `AggregateSizer.aggregatedSize` for the same records.
 *
 * @throws Error when `records` is empty (there is no aggregated form of nothing).
 *
 * @example
 * ```ts
 * const blob = encodeAggregated([
 *   { partitionKey: 'a', data: 'x' },
 *   { partitionKey: 'b', data: new Uint8Array([0x79]) },
 * ]);
 * // blob.length === 40; decodeAggregated(blob)[1].partitionKey === 'b'
 * ```
 */
export function encodeAggregated(records: readonly AggregationInput[]): Uint8Array {
  return encodeCore(records, inputPk, inputEhk, inputData, undefined);
}

/**
 * The aggregator's entry point: the same bytes as `encodeAggregated` for buffered records
 * (partition key `r.record.partitionKey`, explicit hash key `r.explicitHashKey`, data `r.data`),
 * without building an `AggregationInput` per record.
 *
 * @param size the exact total size already known from `AggregateSizer.aggregatedSize`; when given,
 *   it is checked against the encoded size (a mismatch is a bug and throws).
 * @throws Error when `records` is empty, or `size` is wrong.
 *
 * @example
 * ```ts
 * const blob = encodeBufferedRecords(batch, sizer.aggregatedSize);
 * ```
 */
export function encodeBufferedRecords(records: readonly BufferedRecord[], size?: number): Uint8Array {
  return encodeCore(records, bufferedPk, bufferedEhk, bufferedData, size);
}
