/**
 * The consumer side of KPL aggregation: turns the Kinesis records GetRecords returns into the user
 * records inside them, as the KCL's `AggregatorUtil.deaggregate` does (kpl.md §13, first bullet).
 *
 * Follows the KCL where it decides:
 * - A record without the magic is a plain record and passes through (no `subSequenceNumber`).
 * - A record with the magic that fails to decode (bad checksum, malformed protobuf) is also passed
 *   through as a plain record, its bytes untouched: the KCL sets `isAggregated = false` on a
 *   checksum mismatch or a protobuf parse failure. Data that happens to start with the magic is
 *   thus never lost.
 * - With a `shardRange`, an aggregated record with any sub-record whose effective hash key (the
 *   explicit hash key if present, else md5 of the partition key) lies outside the range is dropped
 *   whole; its sub-records go to `onDropped`. Plain records are never filtered. A sub-record's
 *   explicit hash key that is not a decimal in [0, 2^128−1] counts as outside the range (the KCL
 *   would fail on it in `new BigInteger`).
 */
import type { _Record } from '@aws-sdk/client-kinesis';
import { Observable, OperatorFunction } from 'rxjs';
import { decodeAggregated, type DecodedRecord } from '../codec/aggregation-decoder';
import { isAggregated } from '../codec/aggregation-format';
import { bigIntToHashKey, compareHashKeys, hashKeyOfPartitionKey, MAX_HASH_KEY, parseDecimalHashKey } from '../codec/hash';
import type { HashKey } from '../codec/hash';
import { checkOptionsObject, ValidationError } from '../config';
import { guard } from '../operators/internal/guard';

/** One user record as a consumer sees it: a plain Kinesis record, or one sub-record of an aggregated one. */
export interface DeaggregatedRecord {
  readonly partitionKey: string;
  /** Present only for a sub-record written with an explicit hash key. */
  readonly explicitHashKey?: string;
  /** A view into the Kinesis record's data (no copy). */
  readonly data: Uint8Array;
  /** The Kinesis record's sequence number, shared by every sub-record of an aggregated record. */
  readonly sequenceNumber: string;
  /** The position inside the aggregated record (0, 1, …); absent for a plain record. */
  readonly subSequenceNumber?: number;
  readonly approximateArrivalTimestamp?: Date;
}

/** Options of {@link deaggregate}. */
export interface DeaggregateOptions {
  /**
   * The hash key range of the shard being read (`HashKeyRange` of DescribeStream/ListShards, as
   * bigints). When given, an aggregated record with a sub-record outside it is dropped whole,
   * as the KCL drops it (kpl.md §13).
   */
  readonly shardRange?: { readonly startingHashKey: bigint; readonly endingHashKey: bigint };
  /** Told of every aggregated record dropped for its shard range, with its sub-records. A throw errors the stream. */
  readonly onDropped?: (records: DeaggregatedRecord[], kinesisRecord: _Record) => void;
  /** Check the MD5 of aggregated records (default true); a record failing it passes through as plain data. */
  readonly verifyChecksum?: boolean;
}

const EMPTY = new Uint8Array(0);

/** What {@link deaggregate} dropped for its shard range so far, over every subscription. */
export interface DeaggregateDropCount {
  /** Aggregated Kinesis records dropped whole. */
  readonly kinesisRecords: number;
  /** The user records inside them. */
  readonly userRecords: number;
}

/** The operator returned by {@link deaggregate}, with the count of what it dropped (always 0 without `shardRange`). */
export type DeaggregateOperator = OperatorFunction<_Record, DeaggregatedRecord> & {
  /** A snapshot of the counts at the time of reading. */
  readonly dropped: DeaggregateDropCount;
};

/**
 * Splits aggregated Kinesis records into their user records; plain records pass through.
 *
 * ```text
 * source:  -A---p---B-|      A aggregated [a0, a1], p plain, B aggregated [b0]
 * result:  -(xy)p---z-|      x = a0 (sub 0), y = a1 (sub 1), z = b0 (sub 0)
 * ```
 *
 * - Completion: completes when the source completes.
 * - Error: the source's error passes through; a throw in `onDropped` errors the result.
 * - Unsubscribe: unsubscribes from the source.
 *
 * @example
 * ```ts
 * from(response.Records ?? []).pipe(deaggregate({ shardRange: { startingHashKey, endingHashKey } }))
 * ```
 *
 * @param options - the shard range to filter by, the drop callback, and whether to verify checksums.
 * @returns an operator from GetRecords records to user records, with `dropped`: how many aggregated
 *   records (and user records inside them) it dropped for the shard range, over all its subscriptions.
 * @throws ValidationError when `options` is not an object, `shardRange` is not a range within
 *   [0, 2^128−1], `onDropped` is not a function or `verifyChecksum` not a boolean.
 */
export function deaggregate(options: DeaggregateOptions = {}): DeaggregateOperator {
  checkOptionsObject(options);
  const { shardRange, onDropped, verifyChecksum = true } = options;
  if (onDropped !== undefined && typeof onDropped !== 'function') {
    throw new ValidationError('onDropped', onDropped, 'a function (records, kinesisRecord) => void');
  }
  if (typeof verifyChecksum !== 'boolean') throw new ValidationError('verifyChecksum', verifyChecksum, 'true or false');
  let range: { start: bigint; end: bigint; startKey: HashKey; endKey: HashKey } | undefined;
  if (shardRange !== undefined) {
    const { startingHashKey: start, endingHashKey: end } = shardRange;
    if (typeof start !== 'bigint' || start < 0n || start > MAX_HASH_KEY) {
      throw new ValidationError('shardRange.startingHashKey', start, 'a bigint in [0, 2^128-1]');
    }
    if (typeof end !== 'bigint' || end < start || end > MAX_HASH_KEY) {
      throw new ValidationError('shardRange.endingHashKey', end, 'a bigint in [startingHashKey, 2^128-1]');
    }
    range = { start, end, startKey: bigIntToHashKey(start), endKey: bigIntToHashKey(end) };
  }

  const inRange = (record: DecodedRecord): boolean => {
    if (range === undefined) return true;
    if (record.explicitHashKey !== undefined) {
      const value = parseDecimalHashKey(record.explicitHashKey); // leading zeros allowed, as the KCL's BigInteger
      return value !== undefined && value >= range.start && value <= range.end;
    }
    // Bytes, not BigInt: md5 of the key compared with the range ends (lib/codec/hash.ts).
    const key = hashKeyOfPartitionKey(record.partitionKey);
    return compareHashKeys(key, range.startKey) >= 0 && compareHashKeys(key, range.endKey) <= 0;
  };

  let droppedKinesisRecords = 0;
  let droppedUserRecords = 0;
  const operator: OperatorFunction<_Record, DeaggregatedRecord> = (source) =>
    new Observable<DeaggregatedRecord>((subscriber) => {
      const subscription = source.subscribe({
        next: guard(subscriber, (kinesisRecord: _Record) => {
          const data = kinesisRecord.Data ?? EMPTY;
          const sequenceNumber = kinesisRecord.SequenceNumber ?? '';
          const arrival = kinesisRecord.ApproximateArrivalTimestamp;
          let decoded: DecodedRecord[] | undefined;
          if (isAggregated(data)) {
            try {
              decoded = decodeAggregated(data, { verifyChecksum });
            } catch {
              decoded = undefined; // the KCL's isAggregated = false: pass the bytes through as they are
            }
          }
          if (decoded === undefined) {
            subscriber.next(userRecord(kinesisRecord.PartitionKey ?? '', undefined, data, sequenceNumber, undefined, arrival));
            return;
          }
          const records = decoded.map((r, i) =>
            userRecord(r.partitionKey, r.explicitHashKey, r.data, sequenceNumber, i, arrival),
          );
          if (range !== undefined && !decoded.every(inRange)) {
            droppedKinesisRecords++;
            droppedUserRecords += records.length;
            onDropped?.(records, kinesisRecord);
            return;
          }
          for (const record of records) {
            if (subscriber.closed) return; // downstream may unsubscribe while we emit
            subscriber.next(record);
          }
        }),
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => subscription.unsubscribe();
    });
  return Object.defineProperty(operator, 'dropped', {
    get: (): DeaggregateDropCount => ({ kinesisRecords: droppedKinesisRecords, userRecords: droppedUserRecords }),
    enumerable: true,
  }) as DeaggregateOperator;
}

/** A record with only the optional fields that have a value (so `'explicitHashKey' in r` means something). */
function userRecord(
  partitionKey: string,
  explicitHashKey: string | undefined,
  data: Uint8Array,
  sequenceNumber: string,
  subSequenceNumber: number | undefined,
  approximateArrivalTimestamp: Date | undefined,
): DeaggregatedRecord {
  const record: { -readonly [K in keyof DeaggregatedRecord]: DeaggregatedRecord[K] } = { partitionKey, data, sequenceNumber };
  if (explicitHashKey !== undefined) record.explicitHashKey = explicitHashKey;
  if (subSequenceNumber !== undefined) record.subSequenceNumber = subSequenceNumber;
  if (approximateArrivalTimestamp !== undefined) record.approximateArrivalTimestamp = approximateArrivalTimestamp;
  return record;
}
