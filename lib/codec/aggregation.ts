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
import { ValidationError } from '../config';
import type { BufferedRecord } from '../records';
import { DECIMAL_HASH_KEY_ALLOWED, parseDecimalHashKey } from './hash';
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
/* Output buffers                                                                                   */
/* ------------------------------------------------------------------------------------------------ */

/** Outputs are carved from slabs of this many bytes (a larger output gets its own buffer). */
const SLAB_SIZE = 1048576;
let slab: ArrayBuffer | undefined;
let slabUsed = 0;

/**
 * `size` bytes for one output, not zeroed (every byte is written). Outputs share 1 MiB slabs: one
 * allocation per ~20 aggregated records instead of one each (a fresh ArrayBuffer per record cost
 * ~20 µs of allocation and page faults in the e2e profile). A slab lives while any output cut from
 * it does; outputs never overlap. Handed out as a plain Uint8Array, not a Buffer.
 */
function allocate(size: number): Uint8Array {
  if (size > SLAB_SIZE / 4) return new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size);
  if (slab === undefined || slabUsed + size > SLAB_SIZE) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE).buffer;
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, size);
  slabUsed += (size + 7) & ~7; // 8-byte aligned starts
  return out;
}

/** Staging buffers are Buffers, for `Buffer#write` of the key table entries (see `writeTableEntry`). */
const EMPTY: Buffer = Buffer.alloc(0);

/**
 * A staging buffer starts this large and grows 4× at a time: a full default aggregate (51,200 B)
 * takes 4 allocations (1, 4, 16, 64 KiB), not 7, and a builder is reused once grown.
 */
const INITIAL_CAPACITY = 1024;
/** `clear()` keeps a staging buffer up to this size, or up to 4× what its last aggregate used. */
const KEEP_CAPACITY = 65536;

/** `buffer` with room for `needed` bytes, its first `used` bytes kept (the rest not zeroed: only written bytes are read). */
function ensure(buffer: Buffer, used: number, needed: number): Buffer {
  if (needed <= buffer.length) return buffer;
  let capacity = buffer.length < INITIAL_CAPACITY ? INITIAL_CAPACITY : buffer.length * 4;
  if (capacity < needed) capacity = needed;
  const grown = Buffer.allocUnsafeSlow(capacity);
  if (used > 0) grown.set(buffer.subarray(0, used));
  return grown;
}

/** Bytes of one key table entry: tag, length varint, the key. */
function tableEntrySize(keyBytes: number): number {
  return 1 + varintLength(keyBytes) + keyBytes;
}

/** Bytes of one record's body (inside its tag and length): pk index, optional ehk index, data. */
function recordBodySize(pkIdx: number, ehkIdx: number, dataLength: number): number {
  const rec = (pkIdx < 0x80 ? 2 : 1 + varintLength(pkIdx)) + 1 + varintLength(dataLength) + dataLength;
  return ehkIdx < 0 ? rec : rec + 1 + varintLength(ehkIdx);
}

/* ------------------------------------------------------------------------------------------------ */
/* The builder                                                                                      */
/* ------------------------------------------------------------------------------------------------ */

/**
 * An aggregated record built one user record at a time, as the aggregator takes them in. Each
 * `add` writes that record's protobuf bytes at once, while its data is still in the CPU cache,
 * into growing staging buffers: one for the partition-key table entries, one for the explicit-hash
 * -key table entries (the tables de-duplicated in first-seen order, kpl.md §2 `detail::KeySet`),
 * one for the records. `encode()` then copies the three into one exactly sized output (three
 * memcpy's, not a pass over the records) and appends the MD5. Same bytes as
 * {@link encodeAggregated} for the same records in the same order.
 *
 * The first record's bytes are written only when a second one comes (or at `encode()`): a record
 * that stays alone goes out raw (kpl.md §2) and is never copied.
 *
 * `size` is the exact size on the wire: 0 when empty, the data length of a lone record (sent raw),
 * else the aggregated size. `removeLast()` undoes the last `add` (one level), for a reducer that
 * closes a batch just before the record that went over the size limit. `clear()` empties the
 * builder and keeps its buffers, so one builder serves many aggregated records.
 *
 * Memory: while a record waits, its bytes are held twice (the carrier's data and the staging
 * copy), ~data + 6 bytes more per record, plus up to 4× slack in the staging buffer.
 *
 * @example
 * ```ts
 * const builder = new AggregateBuilder();
 * builder.add('a', undefined, utf8('x'));
 * builder.add('b', undefined, utf8('y'));
 * builder.encode(); // === encodeAggregated([{ partitionKey: 'a', data: 'x' }, { partitionKey: 'b', data: 'y' }])
 * ```
 */
export class AggregateBuilder {
  private readonly pkIndex = new Map<string, number>();
  private readonly ehkIndex = new Map<string, number>();
  /** Partition-key table entries (tag 0x0A, length, UTF-8), first-seen order. */
  private pkTable: Buffer = EMPTY;
  private pkTableUsed = 0;
  /** Explicit-hash-key table entries (tag 0x12, length, ASCII decimal), first-seen order. */
  private ehkTable: Buffer = EMPTY;
  private ehkTableUsed = 0;
  /** Record entries (tag 0x1A, length, Record) written so far. */
  private body: Buffer = EMPTY;
  private bodyUsed = 0;
  /** Bytes of every record entry, the pending first one included. */
  private recordsBytes = 0;
  private n = 0;
  /** The first record's data while its bytes are not written yet; its pk index is 0, its ehk index 0 or −1. */
  private firstData: Uint8Array | string | undefined;
  private firstDataLength = 0;
  private firstEhkIdx = -1;
  private firstRecordBytes = 0;

  /**
   * The partition key `sizeIfAdded` last looked up and its index (the table's size when new), for
   * the `add` of the same record that follows it (the reducer's packing loop): one Map lookup per
   * record, not two. Forgotten by any change of the table (add, removeLast, clear).
   */
  private memoPk: string | undefined;
  private memoPkIdx = 0;

  // One level of undo: the state before the last add.
  private canUndo = false;
  private undoBodyUsed = 0;
  private undoRecordsBytes = 0;
  private undoPkTableUsed = 0;
  private undoEhkTableUsed = 0;
  /** Keys the last add brought into the tables (undefined when it brought none). */
  private undoNewPk: string | undefined;
  private undoNewEhk: string | undefined;

  /** User records added. */
  get count(): number {
    return this.n;
  }

  /** Exact bytes on the wire: 0 when empty, the data length of a lone record, else the aggregated size. */
  get size(): number {
    const n = this.n;
    return n === 0 ? 0 : n === 1 ? this.firstDataLength : AGGREGATION_OVERHEAD + this.pkTableUsed + this.ehkTableUsed + this.recordsBytes;
  }

  /** The aggregated form's size (even for 0 or 1 records). */
  get aggregatedSize(): number {
    return AGGREGATION_OVERHEAD + this.pkTableUsed + this.ehkTableUsed + this.recordsBytes;
  }

  /** What `size` would be with this record added (nothing changes). */
  sizeIfAdded(partitionKey: string, explicitHashKey: string | undefined, dataLength: number): number {
    if (this.n === 0) return dataLength;
    let tables = this.pkTableUsed + this.ehkTableUsed;
    let pkIdx = this.pkIndex.get(partitionKey);
    if (pkIdx === undefined) {
      pkIdx = this.pkIndex.size;
      tables += tableEntrySize(utf8Length(partitionKey));
    }
    this.memoPk = partitionKey;
    this.memoPkIdx = pkIdx;
    let ehkIdx = -1;
    if (explicitHashKey !== undefined) {
      const known = this.ehkIndex.get(explicitHashKey);
      if (known === undefined) {
        ehkIdx = this.ehkIndex.size;
        tables += tableEntrySize(utf8Length(explicitHashKey));
      } else ehkIdx = known;
    }
    const rec = recordBodySize(pkIdx, ehkIdx, dataLength);
    return AGGREGATION_OVERHEAD + tables + this.recordsBytes + 1 + varintLength(rec) + rec;
  }

  /** Adds a record: its bytes are written now (a `Uint8Array` is copied, a string written as UTF-8). */
  add(partitionKey: string, explicitHashKey: string | undefined, data: Uint8Array | string): void {
    this.undoBodyUsed = this.bodyUsed;
    this.undoRecordsBytes = this.recordsBytes;
    this.undoPkTableUsed = this.pkTableUsed;
    this.undoEhkTableUsed = this.ehkTableUsed;
    this.undoNewPk = undefined;
    this.undoNewEhk = undefined;
    this.canUndo = true;

    // New keys are out of line so `add` stays small enough to inline.
    let pkIdx: number | undefined;
    if (partitionKey === this.memoPk) {
      pkIdx = this.memoPkIdx;
      this.memoPk = undefined;
      if (pkIdx === this.pkIndex.size) pkIdx = this.addPartitionKey(partitionKey);
    } else {
      this.memoPk = undefined;
      pkIdx = this.pkIndex.get(partitionKey);
      if (pkIdx === undefined) pkIdx = this.addPartitionKey(partitionKey);
    }
    const ehkIdx = explicitHashKey === undefined ? -1 : this.explicitHashKeyIndex(explicitHashKey);
    const dataLength = typeof data === 'string' ? utf8Length(data) : data.length;
    const rec = recordBodySize(pkIdx, ehkIdx, dataLength);
    const entryBytes = (rec < 0x80 ? 2 : 1 + varintLength(rec)) + rec;
    this.recordsBytes += entryBytes;
    const n = this.n++;
    if (n === 0) {
      // Written when a second record comes: a lone record is sent raw.
      this.firstData = data;
      this.firstDataLength = dataLength;
      this.firstEhkIdx = ehkIdx;
      this.firstRecordBytes = entryBytes;
      return;
    }
    if (this.firstData !== undefined) {
      this.writePendingFirst();
      this.undoBodyUsed = this.bodyUsed;
    }
    this.writeRecord(pkIdx, ehkIdx, data, dataLength, rec, entryBytes);
  }

  private addPartitionKey(partitionKey: string): number {
    const pkIdx = this.pkIndex.size;
    this.pkIndex.set(partitionKey, pkIdx);
    this.undoNewPk = partitionKey;
    this.pkTable = ensure(this.pkTable, this.pkTableUsed, this.pkTableUsed + 5 + 3 * partitionKey.length);
    this.pkTableUsed = writeTableEntry(this.pkTable, this.pkTableUsed, 0x0a, partitionKey);
    return pkIdx;
  }

  private explicitHashKeyIndex(explicitHashKey: string): number {
    const known = this.ehkIndex.get(explicitHashKey);
    if (known !== undefined) return known;
    const ehkIdx = this.ehkIndex.size;
    this.ehkIndex.set(explicitHashKey, ehkIdx);
    this.undoNewEhk = explicitHashKey;
    this.ehkTable = ensure(this.ehkTable, this.ehkTableUsed, this.ehkTableUsed + 5 + 3 * explicitHashKey.length);
    this.ehkTableUsed = writeTableEntry(this.ehkTable, this.ehkTableUsed, 0x12, explicitHashKey);
    return ehkIdx;
  }

  /** Undoes the last `add` (only one level: a second call in a row throws). */
  removeLast(): void {
    if (!this.canUndo) throw new Error('AggregateBuilder.removeLast: nothing to undo');
    this.canUndo = false;
    this.memoPk = undefined;
    if (this.n === 1) {
      this.reset();
      return;
    }
    this.n--;
    this.bodyUsed = this.undoBodyUsed;
    this.recordsBytes = this.undoRecordsBytes;
    // A key the last record brought is the last entry of its table (Maps keep insertion order).
    if (this.undoNewPk !== undefined) this.pkIndex.delete(this.undoNewPk);
    if (this.undoNewEhk !== undefined) this.ehkIndex.delete(this.undoNewEhk);
    this.pkTableUsed = this.undoPkTableUsed;
    this.ehkTableUsed = this.undoEhkTableUsed;
  }

  /**
   * The aggregated record of everything added (always the aggregated form, even for one record).
   * The builder is unchanged: more records may follow, or `clear()`.
   * @throws Error when nothing was added.
   */
  encode(): Uint8Array {
    if (this.n === 0) throw new Error('AggregateBuilder.encode: cannot aggregate 0 records');
    if (this.firstData !== undefined) this.writePendingFirst();
    const pkBytes = this.pkTableUsed;
    const ehkBytes = this.ehkTableUsed;
    const bodyBytes = this.bodyUsed;
    const protobuf = pkBytes + ehkBytes + bodyBytes;
    const out = allocate(protobuf + AGGREGATION_OVERHEAD);
    out.set(AGGREGATION_MAGIC, 0);
    let pos = MAGIC_LENGTH;
    out.set(pkBytes === this.pkTable.length ? this.pkTable : this.pkTable.subarray(0, pkBytes), pos);
    pos += pkBytes;
    if (ehkBytes > 0) {
      out.set(this.ehkTable.subarray(0, ehkBytes), pos);
      pos += ehkBytes;
    }
    out.set(this.body.subarray(0, bodyBytes), pos);
    pos += bodyBytes;
    out.set(md5Bytes(out.subarray(MAGIC_LENGTH, pos)), pos);
    return out;
  }

  /** Room for `bodyBytes` bytes of record entries before any is added (a one-shot encode that knows a bound). */
  reserve(bodyBytes: number): void {
    this.body = ensure(this.body, this.bodyUsed, bodyBytes);
  }

  /**
   * Empties the builder for the next aggregated record, keeping its staging buffers (a buffer far
   * larger than this aggregate needed, e.g. after a giant record, is let go).
   */
  clear(): void {
    if (this.body.length > KEEP_CAPACITY && this.body.length > 4 * this.bodyUsed) this.body = EMPTY;
    this.reset();
  }

  private reset(): void {
    if (this.pkIndex.size > 0) this.pkIndex.clear();
    if (this.ehkIndex.size > 0) this.ehkIndex.clear();
    this.pkTableUsed = 0;
    this.ehkTableUsed = 0;
    this.bodyUsed = 0;
    this.recordsBytes = 0;
    this.n = 0;
    this.firstData = undefined;
    this.firstDataLength = 0;
    this.canUndo = false;
    this.memoPk = undefined;
  }

  /** Writes the first record's entry (pk index 0) at the start of the body. */
  private writePendingFirst(): void {
    const data = this.firstData as Uint8Array | string;
    this.firstData = undefined;
    const entryBytes = this.firstRecordBytes;
    const dataLength = this.firstDataLength;
    this.writeRecord(0, this.firstEhkIdx, data, dataLength, recordBodySize(0, this.firstEhkIdx, dataLength), entryBytes);
  }

  private writeRecord(pkIdx: number, ehkIdx: number, data: Uint8Array | string, dataLength: number, rec: number, entryBytes: number): void {
    let pos = this.bodyUsed;
    let body = this.body;
    if (pos + entryBytes > body.length) this.body = body = ensure(body, pos, pos + entryBytes);
    body[pos++] = 0x1a;
    if (rec < 0x80) body[pos++] = rec;
    else pos = writeVarint(body, pos, rec);
    body[pos++] = 0x08;
    if (pkIdx < 0x80) body[pos++] = pkIdx;
    else pos = writeVarint(body, pos, pkIdx);
    if (ehkIdx >= 0) {
      body[pos++] = 0x10;
      pos = writeVarint(body, pos, ehkIdx);
    }
    body[pos++] = 0x1a;
    if (dataLength < 0x80) body[pos++] = dataLength;
    else pos = writeVarint(body, pos, dataLength);
    if (typeof data === 'string') pos = writeUtf8(body, pos, data, dataLength);
    else {
      body.set(data, pos);
      pos += dataLength;
    }
    this.bodyUsed = pos;
  }
}

/**
 * Writes one key table entry (tag, length varint, UTF-8 key) at `pos`; returns the new position.
 * `out` must have room for `5 + 3 × key.length` bytes from `pos`. One native pass over the key:
 * `Buffer#write` encodes it where a 1-byte length fits (keys under 128 bytes, the usual case) and
 * returns its length; a longer key is moved up behind its longer varint. (~88 ns for a new key
 * against ~149 ns for `utf8Length` then a write loop.) Lone surrogates become U+FFFD (EF BF BD),
 * as `utf8Length` counts them and as `TextEncoder` writes them.
 */
function writeTableEntry(out: Buffer, pos: number, tag: number, key: string): number {
  out[pos] = tag;
  const len = out.write(key, pos + 2, 'utf8');
  if (len < 0x80) {
    out[pos + 1] = len;
    return pos + 2 + len;
  }
  const start = pos + 1 + varintLength(len);
  out.copyWithin(start, pos + 2, pos + 2 + len);
  writeVarint(out, pos + 1, len);
  return start + len;
}

/* ------------------------------------------------------------------------------------------------ */
/* One-shot encoders                                                                                */
/* ------------------------------------------------------------------------------------------------ */

/**
 * At least the record entries' bytes for `records` (tag, length, indices, data; a string's data at
 * 3 bytes per UTF-16 unit, the UTF-8 worst case): a one-shot encode stages into one buffer of this
 * size instead of growing it 1 → 4 → 16 → 64 KiB, each growth a copy.
 */
function recordBytesBound<T>(records: readonly T[], dataOf: (record: T, index: number) => Uint8Array | string): number {
  let bytes = 0;
  for (let i = 0; i < records.length; i++) {
    const data = dataOf(records[i], i);
    bytes += 24 + (typeof data === 'string' ? 3 * data.length : data.length);
  }
  return bytes;
}

/**
 * Encodes user records as one KPL aggregated record: magic `F3 89 9A C2`, the proto2
 * `AggregatedRecord`, and the MD5 of the protobuf bytes (kpl.md §2). Always the aggregated form,
 * even for one record (the KPL sends a lone record raw; choosing that is the caller's business).
 * Byte-identical to the C++ KPL and to aws-kinesis-agg's `RecordAggregator`.
 *
 * Partition keys and explicit hash keys are de-duplicated into tables in first-seen order; records
 * without an explicit hash key leave out field 2. String data is written as UTF-8. The output's
 * length equals `AggregateBuilder.aggregatedSize` for the same records.
 *
 * @throws Error when `records` is empty (there is no aggregated form of nothing); ValidationError
 *   naming `records[i].<field>` when a record is not `{ partitionKey: string; data: Uint8Array |
 *   string; explicitHashKey?: decimal in [0, 2^128−1] }` (an invalid explicit hash key would make a
 *   record the KCL cannot deaggregate).
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
  if (!Array.isArray(records)) throw new ValidationError('records', records, 'an array of { partitionKey, data, explicitHashKey? }');
  if (records.length === 0) throw new Error('encodeAggregated: cannot aggregate 0 records');
  const builder = new AggregateBuilder();
  builder.reserve(recordBytesBound(records, checkedData)); // checks each record on the way
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    builder.add(r.partitionKey, r.explicitHashKey, r.data);
  }
  return builder.encode();
}

/**
 * The public encoder's input check, returning the record's data (the producer's records were
 * validated when they were put and do not come this way).
 */
function checkedData(record: AggregationInput, i: number): Uint8Array | string {
  if (typeof record !== 'object' || record === null) {
    throw new ValidationError(`records[${i}]`, record, 'an object { partitionKey, data, explicitHashKey? }');
  }
  const data = record.data;
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new ValidationError(`records[${i}].data`, data, 'a Uint8Array or a string');
  }
  if (typeof record.partitionKey !== 'string') throw new ValidationError(`records[${i}].partitionKey`, record.partitionKey, 'a string');
  const ehk = record.explicitHashKey;
  if (ehk !== undefined && (typeof ehk !== 'string' || parseDecimalHashKey(ehk) === undefined)) {
    throw new ValidationError(`records[${i}].explicitHashKey`, ehk, DECIMAL_HASH_KEY_ALLOWED);
  }
  return data;
}

/**
 * The same bytes as `encodeAggregated` for buffered records (partition key `r.record.partitionKey`,
 * explicit hash key `r.explicitHashKey`, data `r.data`), without building an `AggregationInput`
 * per record. The aggregator itself builds with an {@link AggregateBuilder} as records arrive;
 * this one-shot form is for records taken together later.
 *
 * @param size the exact total size when already known (`AggregateBuilder.aggregatedSize`); when
 *   given, it is checked against the encoded size (a mismatch is a bug and throws).
 * @throws Error when `records` is empty, or `size` is wrong.
 *
 * @example
 * ```ts
 * const blob = encodeBufferedRecords(kinesisRecord.records, kinesisRecord.size);
 * ```
 */
export function encodeBufferedRecords(records: readonly BufferedRecord[], size?: number): Uint8Array {
  if (records.length === 0) throw new Error('encodeBufferedRecords: cannot aggregate 0 records');
  const builder = new AggregateBuilder();
  builder.reserve(recordBytesBound(records, (r) => r.data));
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    builder.add(r.record.partitionKey, r.explicitHashKey, r.data);
  }
  if (size !== undefined && size !== builder.aggregatedSize) {
    throw new Error(`encodeBufferedRecords: size ${size} given, but the records encode to ${builder.aggregatedSize} bytes`);
  }
  return builder.encode();
}
