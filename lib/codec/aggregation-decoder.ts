/**
 * The KPL aggregation decoder (kpl.md §2, aiokpl.md §3.3): checks the magic and the MD5, then
 * reads the proto2 `AggregatedRecord` by hand. The data of each user record is a view into the
 * input, never a copy.
 *
 * Strict where aiokpl is strict, and bounded: every length is checked against the bytes that
 * remain before anything is sliced, so a hostile input can neither hang the decoder nor make it
 * allocate more than its own size. Decisions where the format leaves room:
 * - Unknown fields of wire type 0 (varint), 1 (fixed64), 2 (length-delimited) and 5 (fixed32) are
 *   skipped, as protobuf-java (the KCL's parser) skips them; aiokpl skips only 0 and 2. Wire types
 *   3 and 4 (deprecated groups), 6 and 7 (undefined) are rejected.
 * - A known field with the wrong wire type (say a partition key table entry sent as a varint) is
 *   rejected rather than skipped: no encoder writes it, and skipping would hide corruption.
 * - Field number 0 and field numbers above 2^29−1 are rejected (protobuf's valid range).
 * - A varint may take 10 bytes (a uint64); an 11th is rejected. A repeated scalar field keeps its
 *   last value, as protobuf does.
 * - Strings are UTF-8 with `fatal: true` and the byte order mark kept (invalid UTF-8 is an error).
 * - Tags (field 4 of a Record) are validated (`key` required, both UTF-8) and then dropped: no
 *   producer writes them ("Tags are not yet implemented", kpl.md §2).
 * - Tables may come after the records that index them (valid protobuf), so indices are checked
 *   once the whole message is read.
 */
import { isAggregated, MAGIC_LENGTH, md5Bytes, MD5_LENGTH } from './aggregation-format';

/**
 * Thrown by {@link decodeAggregated} for input that is not a well-formed KPL aggregated record.
 * The message says what is wrong and where.
 */
export class AggregationFormatError extends Error {
  override readonly name = 'AggregationFormatError';
}

/** One user record read back from an aggregated record. */
export interface DecodedRecord {
  readonly partitionKey: string;
  /** Present only when the record carried an explicit hash key index. */
  readonly explicitHashKey?: string;
  /** A view into the decoded input (not a copy). */
  readonly data: Uint8Array;
}

/** Options of {@link decodeAggregated}. */
export interface DecodeAggregatedOptions {
  /** Check the trailing MD5 against the protobuf bytes. Default true. */
  readonly verifyChecksum?: boolean;
}

const TWO_32 = 4294967296;
const MAX_FIELD_NUMBER = 0x1fffffff;

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/* The reader: one input and one cursor, module-level so the hot loop allocates nothing. */
let buf: Uint8Array = new Uint8Array(0);
let cur = 0;

function fail(message: string): never {
  throw new AggregationFormatError(message);
}

/** Reads a varint (≤ 10 bytes) ending no later than `end`. Values above 2^53 lose precision, which only makes them "too large" later. */
function readVarint(end: number, what: string): number {
  if (cur >= end) fail(`truncated varint (${what}) at byte ${cur}`);
  let b = buf[cur++];
  if (b < 0x80) return b;
  let value = b & 0x7f;
  let scale = 128;
  for (let i = 1; i < 10; i++) {
    if (cur >= end) fail(`truncated varint (${what}) at byte ${cur}`);
    b = buf[cur++];
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value;
    scale *= 128;
  }
  return fail(`varint over 10 bytes (${what}) ending at byte ${cur}`);
}

/** Reads a length prefix and returns the end of the field it announces, checked against `end`. */
function readLength(end: number, what: string): number {
  const len = readVarint(end, `${what} length`);
  if (len > end - cur) fail(`truncated ${what}: ${len} bytes announced at byte ${cur}, ${end - cur} remain`);
  return cur + len;
}

function readString(end: number, what: string): string {
  const stop = readLength(end, what);
  const start = cur;
  cur = stop;
  return decodeUtf8(start, stop, what);
}

function decodeUtf8(start: number, stop: number, what: string): string {
  const len = stop - start;
  if (len <= 64) {
    // Short ASCII keys: String.fromCharCode beats TextDecoder's per-call cost.
    let ascii = true;
    for (let i = start; i < stop; i++) {
      if (buf[i] >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, buf.subarray(start, stop) as unknown as number[]);
  }
  try {
    return utf8Decoder.decode(buf.subarray(start, stop));
  } catch {
    return fail(`invalid UTF-8 in ${what} at bytes ${start}..${stop}`);
  }
}

/** Reads a tag; returns field number × 8 + wire type, with both checked. */
function readTag(end: number): number {
  const tag = readVarint(end, 'field tag');
  if (tag >= TWO_32 || tag >>> 3 === 0 || tag >>> 3 > MAX_FIELD_NUMBER) {
    fail(`invalid field number ${Math.floor(tag / 8)} at byte ${cur}`);
  }
  return tag;
}

function skipField(wireType: number, field: number, end: number): void {
  switch (wireType) {
    case 0:
      readVarint(end, `unknown field ${field}`);
      return;
    case 1:
      if (end - cur < 8) fail(`truncated fixed64 (unknown field ${field}) at byte ${cur}`);
      cur += 8;
      return;
    case 2:
      cur = readLength(end, `unknown field ${field}`);
      return;
    case 5:
      if (end - cur < 4) fail(`truncated fixed32 (unknown field ${field}) at byte ${cur}`);
      cur += 4;
      return;
    default:
      fail(`unsupported wire type ${wireType} (field ${field}) at byte ${cur}`);
  }
}

function expectWireType(tag: number, wireType: number, what: string): void {
  if ((tag & 7) !== wireType) fail(`${what} (field ${tag >>> 3}) has wire type ${tag & 7}, expected ${wireType}, at byte ${cur}`);
}

function readTagMessage(end: number): void {
  let hasKey = false;
  while (cur < end) {
    const tag = readTag(end);
    const field = tag >>> 3;
    if (field === 1) {
      expectWireType(tag, 2, 'Tag.key');
      readString(end, 'Tag.key');
      hasKey = true;
    } else if (field === 2) {
      expectWireType(tag, 2, 'Tag.value');
      readString(end, 'Tag.value');
    } else skipField(tag & 7, field, end);
  }
  if (!hasKey) fail(`Tag without its required key, ending at byte ${end}`);
}

/**
 * Decodes a KPL aggregated record into its user records, in order (kpl.md §2). Each `data` is a
 * `subarray` view into `bytes`; partition keys and explicit hash keys are read from the tables.
 *
 * @example
 * ```ts
 * const [first] = decodeAggregated(blob);
 * console.log(first.partitionKey, Buffer.from(first.data).toString());
 * ```
 *
 * @param bytes - the data of a Kinesis record (see {@link isAggregated}).
 * @param options - `verifyChecksum` (default true) checks the trailing MD5.
 * @returns the user records; an aggregated record holding none gives `[]`.
 * @throws AggregationFormatError for anything malformed: shorter than 20 bytes, no magic, a wrong
 *   MD5, a truncated varint or field, a varint over 10 bytes, an index outside its table, a missing
 *   required field (`partition_key_index`, `data`, `Tag.key`), an unsupported wire type, or invalid
 *   UTF-8.
 */
export function decodeAggregated(bytes: Uint8Array, options?: DecodeAggregatedOptions): DecodedRecord[] {
  if (bytes.length < MAGIC_LENGTH + MD5_LENGTH) {
    throw new AggregationFormatError(`too short for an aggregated record: ${bytes.length} bytes, at least 20 needed`);
  }
  if (!isAggregated(bytes)) {
    throw new AggregationFormatError('no aggregation magic: the first 4 bytes are not F3 89 9A C2');
  }
  const end = bytes.length - MD5_LENGTH;
  if (options?.verifyChecksum !== false) {
    const digest = md5Bytes(bytes.subarray(MAGIC_LENGTH, end));
    for (let i = 0; i < MD5_LENGTH; i++) {
      if (digest[i] !== bytes[end + i]) throw new AggregationFormatError('MD5 checksum mismatch');
    }
  }
  buf = bytes;
  cur = MAGIC_LENGTH;
  try {
    return decodeBody(end);
  } finally {
    buf = new Uint8Array(0); // do not keep the caller's bytes alive
  }
}

function decodeBody(end: number): DecodedRecord[] {
  const pkTable: string[] = [];
  const ehkTable: string[] = [];
  // Per record: pk index, ehk index (−1 when absent), data start, data end.
  const recs: number[] = [];
  while (cur < end) {
    const tag = readTag(end);
    const field = tag >>> 3;
    if (field === 1) {
      expectWireType(tag, 2, 'partition_key_table entry');
      pkTable.push(readString(end, 'partition_key_table entry'));
    } else if (field === 2) {
      expectWireType(tag, 2, 'explicit_hash_key_table entry');
      ehkTable.push(readString(end, 'explicit_hash_key_table entry'));
    } else if (field === 3) {
      expectWireType(tag, 2, 'record');
      const stop = readLength(end, 'record');
      readRecord(stop, recs);
    } else skipField(tag & 7, field, end);
  }

  const out: DecodedRecord[] = new Array<DecodedRecord>(recs.length / 4);
  for (let i = 0, r = 0; i < recs.length; i += 4, r++) {
    const pkIdx = recs[i];
    const ehkIdx = recs[i + 1];
    if (pkIdx >= pkTable.length) {
      throw new AggregationFormatError(`record ${r}: partition_key_index ${pkIdx} outside the table of ${pkTable.length}`);
    }
    const data = buf.subarray(recs[i + 2], recs[i + 3]);
    if (ehkIdx < 0) out[r] = { partitionKey: pkTable[pkIdx], data };
    else if (ehkIdx >= ehkTable.length) {
      throw new AggregationFormatError(
        `record ${r}: explicit_hash_key_index ${ehkIdx} outside the table of ${ehkTable.length}`,
      );
    } else out[r] = { partitionKey: pkTable[pkIdx], explicitHashKey: ehkTable[ehkIdx], data };
  }
  return out;
}

function readRecord(end: number, recs: number[]): void {
  const start = cur;
  let pkIdx = -1;
  let ehkIdx = -1;
  let dataStart = -1;
  let dataEnd = -1;
  while (cur < end) {
    const tag = readTag(end);
    const field = tag >>> 3;
    if (field === 1) {
      expectWireType(tag, 0, 'partition_key_index');
      pkIdx = readVarint(end, 'partition_key_index');
    } else if (field === 2) {
      expectWireType(tag, 0, 'explicit_hash_key_index');
      ehkIdx = readVarint(end, 'explicit_hash_key_index');
    } else if (field === 3) {
      expectWireType(tag, 2, 'data');
      dataEnd = readLength(end, 'data');
      dataStart = cur;
      cur = dataEnd;
    } else if (field === 4) {
      expectWireType(tag, 2, 'tag');
      const stop = readLength(end, 'tag');
      readTagMessage(stop);
    } else skipField(tag & 7, field, end);
  }
  if (pkIdx < 0) fail(`record at byte ${start} has no partition_key_index (required)`);
  if (dataStart < 0) fail(`record at byte ${start} has no data (required)`);
  recs.push(pkIdx, ehkIdx, dataStart, dataEnd);
}
