/**
 * Exact sizes of aggregated records, computed without serializing (kpl.md §2, "Exact incremental
 * formula"). The KPL estimates, then trims on the accurate size; we count exactly once.
 *
 * ```text
 * rec  = 1+v(pkIdx) + [1+v(ehkIdx)] + 1+v(len(data))+len(data)
 * size = 20 + Σrecords (1+v(rec)+rec) + Σnew pk (1+v(len)+len) + Σnew ehk (1+v(len)+len)
 * ```
 * where v(n) is the varint length of n. A single record is sent raw, so its size is its data length.
 */

/** Magic (4) + MD5 (16). */
export const AGGREGATION_OVERHEAD = 20;

/** Bytes of n as a protobuf varint (unsigned LEB128), n a non-negative safe integer. */
export function varintLength(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  // Above 2^28 bit operations overflow; divide instead.
  let len = 4;
  let v = Math.floor(n / 0x10000000);
  while (v > 0) {
    len++;
    v = Math.floor(v / 128);
  }
  return len;
}

/** Bytes of a UTF-8 encoded string, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // a pair: 2 UTF-16 units → 4 bytes
        i++;
      } else bytes += 2; // lone surrogate → U+FFFD, 3 bytes
    } else bytes += 2;
  }
  return bytes;
}

/**
 * Tracks the exact serialized size of an aggregated record as user records are added.
 * Keys are de-duplicated in first-seen order, as the encoder's tables are.
 */
export class AggregateSizer {
  private readonly pkIndex = new Map<string, number>();
  private readonly ehkIndex = new Map<string, number>();
  private aggregated = AGGREGATION_OVERHEAD;
  private firstDataLength = 0;
  private n = 0;

  /** User records added so far. */
  get count(): number {
    return this.n;
  }

  /** Exact bytes on the wire: 0 when empty, the data length for one record, else the aggregated blob. */
  get size(): number {
    return this.n === 0 ? 0 : this.n === 1 ? this.firstDataLength : this.aggregated;
  }

  /** The size of the aggregated form (even for 0 or 1 records): 20 + tables + records. */
  get aggregatedSize(): number {
    return this.aggregated;
  }

  /** What `aggregatedSize` would become if this record were added (nothing changes). */
  aggregatedSizeIfAdded(partitionKey: string, explicitHashKey: string | undefined, dataLength: number): number {
    return this.aggregated + this.delta(partitionKey, explicitHashKey, dataLength);
  }

  /** Adds a record; returns the new `size`. */
  add(partitionKey: string, explicitHashKey: string | undefined, dataLength: number): number {
    this.aggregated += this.delta(partitionKey, explicitHashKey, dataLength);
    if (!this.pkIndex.has(partitionKey)) this.pkIndex.set(partitionKey, this.pkIndex.size);
    if (explicitHashKey !== undefined && !this.ehkIndex.has(explicitHashKey)) {
      this.ehkIndex.set(explicitHashKey, this.ehkIndex.size);
    }
    if (this.n === 0) this.firstDataLength = dataLength;
    this.n++;
    return this.size;
  }

  /** Empties the sizer for reuse. */
  reset(): void {
    this.pkIndex.clear();
    this.ehkIndex.clear();
    this.aggregated = AGGREGATION_OVERHEAD;
    this.firstDataLength = 0;
    this.n = 0;
  }

  private delta(partitionKey: string, explicitHashKey: string | undefined, dataLength: number): number {
    let delta = 0;
    let pkIdx = this.pkIndex.get(partitionKey);
    if (pkIdx === undefined) {
      pkIdx = this.pkIndex.size;
      const len = utf8Length(partitionKey);
      delta += 1 + varintLength(len) + len;
    }
    let rec = 1 + varintLength(pkIdx) + 1 + varintLength(dataLength) + dataLength;
    if (explicitHashKey !== undefined) {
      let ehkIdx = this.ehkIndex.get(explicitHashKey);
      if (ehkIdx === undefined) {
        ehkIdx = this.ehkIndex.size;
        const len = explicitHashKey.length; // canonical decimal: ASCII
        delta += 1 + varintLength(len) + len;
      }
      rec += 1 + varintLength(ehkIdx);
    }
    return delta + 1 + varintLength(rec) + rec;
  }
}
