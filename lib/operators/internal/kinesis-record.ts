/**
 * Builds the `KinesisRecord` that goes on the wire from a closed aggregation batch: the KPL's
 * `KinesisRecord::serialize`, `partition_key()` and `explicit_hash_key()` (kpl.md §2).
 *
 * - One user record: its raw bytes, its own partition key (the KPL never aggregates a lone record).
 * - Several: the aggregated blob, partition key `"a"` (a 1-byte dummy: the explicit hash key routes).
 * - The explicit hash key is always the decimal hash key of the first record, for single records
 *   too (`PutRecordsContext::to_sdk_request` always sets it, kpl.md §2).
 */
import { encodeBufferedRecords } from '../../codec/aggregation';
import { hashKeyToDecimal } from '../../codec/hash';
import type { BufferedRecord, KinesisRecord } from '../../records';

/** The dummy partition key of an aggregated record (kpl.md §2). */
export const AGGREGATED_PARTITION_KEY = 'a';

/**
 * One Kinesis record from user records of one predicted shard.
 *
 * @param streamName - the stream every record goes to.
 * @param predictedShard - the shard shared by every record, or `undefined` (then `records` has one).
 * @param records - non-empty, in deadline order; the array becomes the carrier's (not copied).
 * @param size - the exact size (`AggregateBuilder.size`: the data length for one record, the
 *   aggregated size for more); the encoder checks it and throws on a mismatch (a bug, never data).
 * @param times - the earliest deadline and expiration when the caller already knows them (the
 *   reducer tracks them as items arrive); otherwise they are computed from `records`.
 * @param planned - the records already staged for encoding, in this order (the aggregator's
 *   container); without it the records are encoded from scratch. Throws if it holds another count.
 * @returns the carrier; its `size` equals `data.length`.
 */
export function buildKinesisRecord(
  streamName: string,
  predictedShard: string | undefined,
  records: readonly BufferedRecord[],
  size: number,
  times?: { readonly deadline: number; readonly expiration: number },
  planned?: { readonly count: number; encode(): Uint8Array },
): KinesisRecord {
  const first = records[0];
  let deadline: number;
  let expiration: number;
  if (times !== undefined) {
    deadline = times.deadline;
    expiration = times.expiration;
  } else {
    deadline = first.deadline;
    expiration = first.expiration;
    for (let i = 1; i < records.length; i++) {
      const r = records[i];
      if (r.deadline < deadline) deadline = r.deadline;
      if (r.expiration < expiration) expiration = r.expiration;
    }
  }
  let data: Uint8Array;
  let partitionKey: string;
  if (records.length === 1) {
    data = first.data;
    partitionKey = first.record.partitionKey;
    if (size !== data.length) throw new Error(`buildKinesisRecord: size ${size} given for a ${data.length}-byte record`);
  } else {
    if (planned !== undefined) {
      // A container that does not hold exactly `records` is a bug: say so rather than encode again.
      if (planned.count !== records.length) throw new Error(`buildKinesisRecord: ${planned.count} records planned for ${records.length}`);
      data = planned.encode();
      if (data.length !== size) throw new Error(`buildKinesisRecord: size ${size} given, but the planned records encode to ${data.length} bytes`);
    } else {
      data = encodeBufferedRecords(records, size);
    }
    partitionKey = AGGREGATED_PARTITION_KEY;
  }
  return {
    streamName,
    predictedShard,
    records,
    partitionKey,
    // A user's explicit hash key is already the canonical decimal: no BigInt needed.
    explicitHashKey: first.explicitHashKey ?? hashKeyToDecimal(first.hashKey),
    data,
    size: data.length,
    deadline: deadline < expiration ? deadline : expiration,
    expiration,
  };
}
