/**
 * Deterministic builders for the Retrier's and the sender's tests: buffered records with chosen
 * hash keys, Kinesis records, batches, outcomes, a fixed clock and a recording shard map.
 */
import { Observable, SchedulerLike, Subscription } from 'rxjs';
import { bigIntToHashKey, MAX_HASH_KEY } from '../../lib/codec/hash';
import type { ShardMapForRetrier, ThrottleSignal } from '../../lib/operators/retry-classify';
import type {
  Attempt,
  BufferedRecord,
  Classified,
  KinesisRecord,
  PutRecordsBatch,
  PutRecordsResponseEntry,
  RecordResult,
  SendOutcome,
} from '../../lib/records';

export const STREAM = 'orders';
/** shardId-000000000000 owns [0, HALF]; shardId-000000000001 owns [HALF + 1, MAX]. */
export const HALF = MAX_HASH_KEY >> 1n;
export const SHARD_0 = 'shardId-000000000000';
export const SHARD_1 = 'shardId-000000000001';
export const SHARD_2 = 'shardId-000000000002';
export const RANGES: Record<string, { startingHashKey: bigint; endingHashKey: bigint }> = {
  [SHARD_0]: { startingHashKey: 0n, endingHashKey: HALF },
  [SHARD_1]: { startingHashKey: HALF + 1n, endingHashKey: MAX_HASH_KEY },
};

/** A buffered record with hash key `hashKey`, arrived at 0, expiring at 30000, no attempts. */
export function bufferedRecord(overrides: Partial<BufferedRecord> & { key?: bigint; name?: string } = {}): BufferedRecord {
  const { key = 1n, name = `pk-${key}`, ...rest } = overrides;
  return {
    record: { partitionKey: name, data: `data of ${name}` },
    streamName: STREAM,
    data: new TextEncoder().encode(`data of ${name}`),
    hashKey: bigIntToHashKey(key),
    explicitHashKey: undefined,
    predictedShard: SHARD_0,
    arrival: 0,
    deadline: 100,
    expiration: 30000,
    attempts: [],
    ...rest,
  };
}

/** A Kinesis record of `records` (aggregated when more than one), predicted for their first's shard. */
export function kinesisRecord(records: readonly BufferedRecord[], predictedShard = records[0].predictedShard): KinesisRecord {
  const data = records.length === 1 ? records[0].data : new Uint8Array(records.reduce((n, r) => n + r.data.length, 0));
  return {
    streamName: records[0].streamName,
    predictedShard,
    records,
    partitionKey: records.length === 1 ? records[0].record.partitionKey : 'a',
    explicitHashKey: '1',
    data,
    size: data.length,
    deadline: 100,
    expiration: Math.min(...records.map((r) => r.expiration)),
  };
}

export function batchOf(records: readonly KinesisRecord[], streamName = STREAM): PutRecordsBatch {
  return { streamName, records, size: records.reduce((n, kr) => n + kr.data.length + kr.partitionKey.length, 0) };
}

/** A batch of `n` single-record Kinesis records, named `${name}0…`. */
export function batchOfSingles(n: number, name = 'r'): PutRecordsBatch {
  return batchOf(Array.from({ length: n }, (_, i) => kinesisRecord([bufferedRecord({ key: BigInt(i + 1), name: `${name}${i}` })])));
}

export function answered(batch: PutRecordsBatch, records: readonly PutRecordsResponseEntry[], startedAt = 10, endedAt = 30): SendOutcome {
  return { kind: 'answered', batch, startedAt, endedAt, records };
}

export function unanswered(batch: PutRecordsBatch, errorCode: string, errorMessage = 'boom', startedAt = 10, endedAt = 30): SendOutcome {
  return { kind: 'unanswered', batch, startedAt, endedAt, errorCode, errorMessage };
}

export const ok = (shardId: string, sequenceNumber = '49500'): PutRecordsResponseEntry => ({ ShardId: shardId, SequenceNumber: sequenceNumber });
export const failed = (errorCode?: string, errorMessage?: string): PutRecordsResponseEntry => ({ ErrorCode: errorCode, ErrorMessage: errorMessage });

/** A scheduler whose `now()` is `clock.now`; it schedules nothing (the Retrier has no timers). */
export function fixedClock(now: number): SchedulerLike & { now(): number; set(t: number): void } {
  let t = now;
  return {
    now: () => t,
    set: (value: number) => {
      t = value;
    },
    schedule: () => {
      throw new Error('the Retrier must not schedule');
    },
  } as unknown as SchedulerLike & { now(): number; set(t: number): void };
}

/** A shard map over {@link RANGES} (or given ranges) that records every call. */
export function recordingShardMap(ranges: Record<string, { startingHashKey: bigint; endingHashKey: bigint }> = RANGES) {
  const invalidations: { seenAt: number; predictedShardId?: string }[] = [];
  const lookups: string[] = [];
  const shardMap: ShardMapForRetrier = {
    hashRange: (shardId) => {
      lookups.push(shardId);
      return ranges[shardId];
    },
    invalidate: (seenAt, predictedShardId) => {
      invalidations.push(predictedShardId === undefined ? { seenAt } : { seenAt, predictedShardId });
    },
  };
  return { shardMap, invalidations, lookups };
}

/** Runs `operator` over the given values synchronously and returns what it emitted. */
export function runSync<T, R>(values: readonly T[], operator: (source: Observable<T>) => Observable<R>): R[] {
  const out: R[] = [];
  let error: unknown;
  const source = new Observable<T>((subscriber) => {
    for (const v of values) subscriber.next(v);
    subscriber.complete();
  });
  const sub: Subscription = operator(source).subscribe({ next: (v) => out.push(v), error: (e: unknown) => (error = e) });
  sub.unsubscribe();
  if (error !== undefined) throw error;
  return out;
}

export function results(classified: readonly Classified[]): RecordResult[] {
  return classified.flatMap((c) => (c.kind === 'result' ? [c.result] : []));
}

export function retries(classified: readonly Classified[]): BufferedRecord[] {
  return classified.flatMap((c) => (c.kind === 'retry' ? [c.record] : []));
}

export type { Attempt, ThrottleSignal };
