/**
 * Deterministic Kinesis records for the Limiter's tests (`rateLimitPerShard`, TokenBucket).
 * The Limiter reads only `streamName`, `predictedShard`, `partitionKey`, `size`, `deadline` and
 * `expiration`; the payload is a view of one shared zero buffer, so 10 MiB records cost nothing.
 */
import { utf8Length } from '../../lib/codec/size';
import type { BufferedRecord, KinesisRecord, SendOutcome } from '../../lib/records';

/** The largest record the bytes bucket (10 MiB) lets pass. */
export const MAX_RECORD_BYTES = 10485760;

const ZEROS = new Uint8Array(MAX_RECORD_BYTES);
const HASH_KEY = new Uint8Array(16);

export interface LimiterRecordSpec {
  /** Also the record's partition key. Default 'pk'. */
  id?: string;
  streamName?: string;
  /** `null` for a record with no predicted shard. Default 'shardId-000000000000'. */
  shard?: string | null;
  /** Bytes charged to the bytes bucket. Default 100. */
  size?: number;
  deadline?: number;
  expiration?: number;
}

export const SHARD_0 = 'shardId-000000000000';
export const SHARD_1 = 'shardId-000000000001';

/** A single (non-aggregated) Kinesis record as `aggregateByShard` would emit it. */
export function limiterRecord(spec: LimiterRecordSpec = {}): KinesisRecord {
  const id = spec.id ?? 'pk';
  const streamName = spec.streamName ?? 'stream';
  const predictedShard = spec.shard === null ? undefined : (spec.shard ?? SHARD_0);
  const size = spec.size ?? 100;
  const deadline = spec.deadline ?? 0;
  const expiration = spec.expiration ?? 30000;
  const data = ZEROS.subarray(0, size);
  const buffered: BufferedRecord = {
    record: { partitionKey: id, data },
    streamName,
    data,
    hashKey: HASH_KEY,
    explicitHashKey: undefined,
    predictedShard,
    arrival: 0,
    deadline,
    expiration,
    attempts: [],
  };
  return { streamName, predictedShard, records: [buffered], partitionKey: id, explicitHashKey: '0', data, size, deadline, expiration };
}

/** The `expired` outcome the Limiter emits for `record` at `now`. */
export function expiredOutcome(record: KinesisRecord, now: number): SendOutcome {
  return {
    kind: 'expired',
    batch: { streamName: record.streamName, records: [record], size: utf8Length(record.partitionKey) + record.size },
    startedAt: now,
    endedAt: now,
  };
}

/** `n` records named `${prefix}0` … for one shard: used to empty the records bucket (capacity 1000). */
export function fillers(n: number, spec: LimiterRecordSpec = {}, prefix = 'filler'): KinesisRecord[] {
  const out: KinesisRecord[] = [];
  for (let i = 0; i < n; i++) out.push(limiterRecord({ ...spec, id: `${prefix}${i}` }));
  return out;
}

/** True for a Kinesis record whose id starts with `filler` (to drop them from expectations). */
export function isFiller(value: KinesisRecord | SendOutcome): boolean {
  return !('kind' in value) && value.partitionKey.startsWith('filler');
}

/**
 * The most of `amount(t)` summed over any window [t, t + windowMs) of the timestamped items —
 * how a sliding rate is measured. `items` must be in time order.
 */
export function maxInWindow(items: readonly { time: number; amount: number }[], windowMs: number, from = -Infinity): number {
  let best = 0;
  let sum = 0;
  let lo = 0;
  const kept = items.filter((i) => i.time >= from);
  for (let hi = 0; hi < kept.length; hi++) {
    sum += kept[hi].amount;
    while (kept[hi].time - kept[lo].time >= windowMs) sum -= kept[lo++].amount;
    if (sum > best) best = sum;
  }
  return best;
}
