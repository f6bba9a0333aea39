/**
 * Deterministic builders for the batching tests (reducer, aggregateByShard, collectBatches):
 * buffered records, Kinesis records, reducer items, and an aws-kinesis-agg round trip.
 */
import { Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { hashKeyOfPartitionKey, hashKeyToDecimal, parseExplicitHashKey, bigIntToHashKey } from '../../lib/codec/hash';
import { buildKinesisRecord } from '../../lib/operators/internal/kinesis-record';
import { createReducer, type ReducerContainer } from '../../lib/operators/internal/reducer';
import type { BufferedRecord, KinesisRecord } from '../../lib/records';

/** `length` bytes: (seed + i) mod 256. */
export function bytes(length: number, seed = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed + i) & 0xff;
  return out;
}

export interface BufferedRecordSpec {
  partitionKey?: string;
  /** Bytes, a string (UTF-8), or a length (filled by `bytes(length, seed)`). */
  data?: Uint8Array | string | number;
  seed?: number;
  explicitHashKey?: string;
  streamName?: string;
  /** `null` for an unpredicted record. Default `'shardId-000000000000'`. */
  predictedShard?: string | null;
  arrival?: number;
  /** Default arrival + 100. */
  deadline?: number;
  /** Default arrival + 30000. */
  expiration?: number;
}

export const SHARD_0 = 'shardId-000000000000';
export const SHARD_1 = 'shardId-000000000001';
export const STREAM = 'stream-a';

/** A buffered record as shardPredict would hand it on. */
export function bufferedRecord(spec: BufferedRecordSpec = {}): BufferedRecord {
  const partitionKey = spec.partitionKey ?? 'pk-0';
  const raw = spec.data ?? 10;
  const data = typeof raw === 'number' ? bytes(raw, spec.seed ?? 0) : typeof raw === 'string' ? new TextEncoder().encode(raw) : raw;
  const ehkValue = spec.explicitHashKey === undefined ? undefined : parseExplicitHashKey(spec.explicitHashKey);
  const arrival = spec.arrival ?? 0;
  return {
    record: {
      partitionKey,
      data: typeof raw === 'string' ? raw : data,
      ...(spec.explicitHashKey === undefined ? {} : { explicitHashKey: spec.explicitHashKey }),
      ...(spec.streamName === undefined ? {} : { streamName: spec.streamName }),
    },
    streamName: spec.streamName ?? STREAM,
    data,
    hashKey: ehkValue === undefined ? hashKeyOfPartitionKey(partitionKey) : bigIntToHashKey(ehkValue),
    explicitHashKey: ehkValue === undefined ? undefined : ehkValue.toString(),
    predictedShard: spec.predictedShard === null ? undefined : (spec.predictedShard ?? SHARD_0),
    arrival,
    deadline: spec.deadline ?? arrival + 100,
    expiration: spec.expiration ?? arrival + 30000,
    attempts: [],
  };
}

/** A raw (single-record) Kinesis record of `dataLength` bytes, as aggregateByShard emits one. */
export function singleKinesisRecord(spec: BufferedRecordSpec = {}): KinesisRecord {
  const r = bufferedRecord(spec);
  return buildKinesisRecord(r.streamName, r.predictedShard, [r], r.data.length);
}

/** The decimal hash key of a partition key, as a KinesisRecord carries it. */
export function decimalHashKey(partitionKey: string): string {
  return hashKeyToDecimal(hashKeyOfPartitionKey(partitionKey));
}

export interface DeaggregatedUserRecord {
  partitionKey: string;
  explicitHashKey: string | undefined;
  data: Uint8Array;
}

// aws-kinesis-agg ships no types we rely on; this is the part the tests call (node-testing.md §3).
interface AggModule {
  deaggregateSync(
    record: { Data: Uint8Array; PartitionKey: string; SequenceNumber: string },
    computeChecksums: boolean,
    cb: (err: Error | null, records?: { PartitionKey: string; ExplicitPartitionKey?: string; Data: string }[]) => void,
  ): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const agg = require('aws-kinesis-agg') as AggModule;

/**
 * The user records inside a Kinesis record, read back by aws-kinesis-agg with checksums on.
 * (aws-kinesis-agg fills the explicit hash key of records without one from table entry 0, so
 * only records whose input had one are compared on it.)
 */
export function deaggregateWithAwsKinesisAgg(record: KinesisRecord): DeaggregatedUserRecord[] {
  let out: DeaggregatedUserRecord[] | undefined;
  let failure: Error | null = null;
  agg.deaggregateSync({ Data: record.data, PartitionKey: record.partitionKey, SequenceNumber: '1' }, true, (err, urs) => {
    failure = err ?? null;
    out = (urs ?? []).map((u) => ({
      partitionKey: u.PartitionKey,
      explicitHashKey: u.ExplicitPartitionKey,
      data: new Uint8Array(Buffer.from(u.Data, 'base64')),
    }));
  });
  if (failure !== null) throw failure;
  if (out === undefined) throw new Error('deaggregateSync did not call back');
  return out;
}

/* ---------------------------------------------------------------------------------------------- */
/* Generic reducer items                                                                           */
/* ---------------------------------------------------------------------------------------------- */

/** A reducer test item: a name, a weight, a deadline (expiration far away unless given). */
export interface Item {
  readonly id: string;
  readonly weight: number;
  readonly deadline: number;
  readonly expiration: number;
}

export function item(id: string, deadline: number, weight = 1, expiration = 1e9): Item {
  return { id, weight, deadline, expiration };
}

/** A container whose size is the sum of the weights. */
export function weightContainer(): ReducerContainer<Item> {
  let count = 0;
  let size = 0;
  return {
    get count() {
      return count;
    },
    get size() {
      return size;
    },
    sizeIfAdded: (i) => size + i.weight,
    add: (i) => {
      count++;
      size += i.weight;
    },
  };
}

export interface ReduceOptions {
  countLimit?: number;
  sizeLimit?: number;
  scheduler: SchedulerLike;
  flushPredicate?: (i: Item) => boolean;
}

/**
 * A thin operator over the reducer for marble tests: emits each closed batch as its item ids
 * joined (`'ab'`); completion flushes everything.
 */
export function reduceItems(options: ReduceOptions): OperatorFunction<Item, string> {
  return (source) =>
    new Observable<string>((subscriber) => {
      const reducer = createReducer<Item, ReducerContainer<Item>>({
        countLimit: options.countLimit ?? 1000,
        sizeLimit: options.sizeLimit ?? 1e9,
        newContainer: weightContainer,
        scheduler: options.scheduler,
        flushPredicate: options.flushPredicate,
        onDeadline: (batches) => batches.forEach((b) => subscriber.next(b.items.map((i) => i.id).join(''))),
      });
      const sub = source.subscribe({
        next: (i) => reducer.add(i).forEach((b) => subscriber.next(b.items.map((x) => x.id).join(''))),
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          reducer.flush().forEach((b) => subscriber.next(b.items.map((x) => x.id).join('')));
          subscriber.complete();
        },
      });
      return () => {
        sub.unsubscribe();
        reducer.close();
      };
    });
}
