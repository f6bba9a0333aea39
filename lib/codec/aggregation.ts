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

/** Bytes of one key table entry: tag, length varint, the key. */
function tableEntrySize(keyBytes: number): number {
  return 1 + varintLength(keyBytes) + keyBytes;
}

/**
 * What pass 1 learns about a batch: the key tables in first-seen order (a `Map` keeps insertion
 * order, so iterating it writes a table in one pass, kpl.md §2 `detail::KeySet`), each record's
 * indices and lengths, and the exact size. Both entry points fill it with their own loop calling
 * {@link planRecord}, so no per-record object is built and no accessor call goes megamorphic.
 */
interface Plan {
  readonly pkIndex: Map<string, number>;
  readonly pkBytes: number[];
  readonly ehkIndex: Map<string, number>;
  readonly ehkBytes: number[];
  /** Per record: pk index, ehk index (−1 for none), data byte length, record body length (may be longer than 4 × count). */
  readonly meta: number[];
  /** One entry per record: its length is the record count. */
  readonly data: (Uint8Array | string)[];
  body: number;
}

function newPlan(n: number): Plan {
  if (n === 0) throw new Error('encodeAggregated: cannot aggregate 0 records');
  return {
    pkIndex: new Map(),
    pkBytes: [],
    ehkIndex: new Map(),
    ehkBytes: [],
    meta: [],
    data: new Array<Uint8Array | string>(n),
    body: 0,
  };
}

function planRecord(plan: Plan, i: number, pk: string, ehk: string | undefined, data: Uint8Array | string): void {
  let pkIdx = plan.pkIndex.get(pk);
  if (pkIdx === undefined) {
    pkIdx = plan.pkIndex.size;
    plan.pkIndex.set(pk, pkIdx);
    const len = utf8Length(pk);
    plan.pkBytes.push(len);
    plan.body += tableEntrySize(len);
  }
  let ehkIdx = -1;
  if (ehk !== undefined) {
    const known = plan.ehkIndex.get(ehk);
    if (known === undefined) {
      ehkIdx = plan.ehkIndex.size;
      plan.ehkIndex.set(ehk, ehkIdx);
      const len = utf8Length(ehk);
      plan.ehkBytes.push(len);
      plan.body += tableEntrySize(len);
    } else ehkIdx = known;
  }
  const dataLen = typeof data === 'string' ? utf8Length(data) : data.length;
  let rec = (pkIdx < 0x80 ? 2 : 1 + varintLength(pkIdx)) + 1 + varintLength(dataLen) + dataLen;
  if (ehkIdx >= 0) rec += 1 + varintLength(ehkIdx);
  plan.body += 1 + varintLength(rec) + rec;
  const m = i * 4;
  plan.meta[m] = pkIdx;
  plan.meta[m + 1] = ehkIdx;
  plan.meta[m + 2] = dataLen;
  plan.meta[m + 3] = rec;
  plan.data[i] = data;
}

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

/** Pass 2: writes the planned batch into one exactly sized buffer, then the MD5. */
function writePlan(plan: Plan, knownSize: number | undefined): Uint8Array {
  const total = plan.body + AGGREGATION_OVERHEAD;
  if (knownSize !== undefined && knownSize !== total) {
    throw new Error(`encodeBufferedRecords: size ${knownSize} given, but the records encode to ${total} bytes`);
  }
  const out = allocate(total);
  out.set(AGGREGATION_MAGIC, 0);
  let pos = MAGIC_LENGTH;
  let k = 0;
  for (const pk of plan.pkIndex.keys()) {
    const len = plan.pkBytes[k++];
    out[pos++] = 0x0a;
    pos = writeVarint(out, pos, len);
    pos = writeUtf8(out, pos, pk, len);
  }
  k = 0;
  for (const ehk of plan.ehkIndex.keys()) {
    const len = plan.ehkBytes[k++];
    out[pos++] = 0x12;
    pos = writeVarint(out, pos, len);
    pos = writeUtf8(out, pos, ehk, len);
  }
  const { meta, data: datas } = plan;
  for (let i = 0, m = 0; i < datas.length; i++, m += 4) {
    const pkIdx = meta[m];
    const ehkIdx = meta[m + 1];
    const dataLen = meta[m + 2];
    out[pos++] = 0x1a;
    pos = writeVarint(out, pos, meta[m + 3]);
    out[pos++] = 0x08;
    pos = writeVarint(out, pos, pkIdx);
    if (ehkIdx >= 0) {
      out[pos++] = 0x10;
      pos = writeVarint(out, pos, ehkIdx);
    }
    out[pos++] = 0x1a;
    pos = writeVarint(out, pos, dataLen);
    const data = datas[i];
    if (typeof data === 'string') pos = writeUtf8(out, pos, data, dataLen);
    else {
      out.set(data, pos);
      pos += dataLen;
    }
  }
  out.set(md5Bytes(out.subarray(MAGIC_LENGTH, pos)), pos);
  return out;
}

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
  const plan = newPlan(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    planRecord(plan, i, r.partitionKey, r.explicitHashKey, r.data);
  }
  return writePlan(plan, undefined);
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
  const plan = newPlan(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    planRecord(plan, i, r.record.partitionKey, r.explicitHashKey, r.data);
  }
  return writePlan(plan, size);
}

/* ------------------------------------------------------------------------------------------------ */
/* Incremental builder                                                                              */
/* ------------------------------------------------------------------------------------------------ */

/**
 * An aggregated record planned one user record at a time, as the aggregator takes them in: each
 * `add` does pass 1 of the encoder for that record (key tables, indices, lengths, exact size)
 * while the record is fresh in the CPU cache, so `encode()` only writes bytes. Same bytes as
 * {@link encodeAggregated} for the same records in the same order; `size` follows
 * `AggregateSizer`'s convention (0 empty, the data length of a lone record, else the aggregated size).
 *
 * `removeLast()` undoes the last `add` (one level), for a reducer that closes a batch just before
 * the record that went over the size limit.
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
  private readonly plan: Plan = { pkIndex: new Map(), pkBytes: [], ehkIndex: new Map(), ehkBytes: [], meta: [], data: [], body: 0 };
  private undoBody = 0;
  private undoPks = 0;
  private undoEhks = 0;
  private undoPk: string | undefined;
  private undoEhk: string | undefined;

  /** User records added. */
  get count(): number {
    return this.plan.data.length;
  }

  /** Exact bytes on the wire: 0 when empty, the data length of a lone record, else the aggregated size. */
  get size(): number {
    const n = this.plan.data.length;
    return n === 0 ? 0 : n === 1 ? this.plan.meta[2] : AGGREGATION_OVERHEAD + this.plan.body;
  }

  /** The aggregated form's size (even for 0 or 1 records). */
  get aggregatedSize(): number {
    return AGGREGATION_OVERHEAD + this.plan.body;
  }

  /** What `size` would be with this record added (nothing changes). */
  sizeIfAdded(partitionKey: string, explicitHashKey: string | undefined, dataLength: number): number {
    const plan = this.plan;
    if (plan.data.length === 0) return dataLength;
    let delta = 0;
    let pkIdx = plan.pkIndex.get(partitionKey);
    if (pkIdx === undefined) {
      pkIdx = plan.pkIndex.size;
      delta += tableEntrySize(utf8Length(partitionKey));
    }
    let rec = 1 + varintLength(pkIdx) + 1 + varintLength(dataLength) + dataLength;
    if (explicitHashKey !== undefined) {
      let ehkIdx = plan.ehkIndex.get(explicitHashKey);
      if (ehkIdx === undefined) {
        ehkIdx = plan.ehkIndex.size;
        delta += tableEntrySize(utf8Length(explicitHashKey));
      }
      rec += 1 + varintLength(ehkIdx);
    }
    return AGGREGATION_OVERHEAD + plan.body + delta + 1 + varintLength(rec) + rec;
  }

  /** Adds a record (its data is referenced, not copied, until `encode`). */
  add(partitionKey: string, explicitHashKey: string | undefined, data: Uint8Array | string): void {
    const plan = this.plan;
    const i = plan.data.length;
    this.undoBody = plan.body;
    this.undoPks = plan.pkIndex.size;
    this.undoEhks = plan.ehkIndex.size;
    this.undoPk = partitionKey;
    this.undoEhk = explicitHashKey;
    planRecord(plan, i, partitionKey, explicitHashKey, data);
  }

  /** Undoes the last `add` (only one level: a second call in a row throws). */
  removeLast(): void {
    const plan = this.plan;
    const pk = this.undoPk;
    if (pk === undefined) throw new Error('AggregateBuilder.removeLast: nothing to undo');
    plan.data.pop();
    plan.body = this.undoBody;
    // A key the last record brought is the last entry of its table (Maps keep insertion order).
    if (plan.pkIndex.size > this.undoPks) {
      plan.pkIndex.delete(pk);
      plan.pkBytes.pop();
    }
    if (plan.ehkIndex.size > this.undoEhks && this.undoEhk !== undefined) {
      plan.ehkIndex.delete(this.undoEhk);
      plan.ehkBytes.pop();
    }
    this.undoPk = undefined;
    this.undoEhk = undefined;
  }

  /**
   * The aggregated record of everything added (always the aggregated form, even for one record).
   * @throws Error when nothing was added.
   */
  encode(): Uint8Array {
    if (this.plan.data.length === 0) throw new Error('AggregateBuilder.encode: cannot aggregate 0 records');
    return writePlan(this.plan, undefined);
  }
}
