/** Deterministic pipeline carriers for the metrics emission tests (own copies: no other area's helpers). */
import type { Attempt, BufferedRecord, KinesisRecord, PutRecordsBatch, RecordResult } from '../../lib/records';

export const STREAM = 'orders';
export const SHARD_0 = 'shardId-000000000000';
export const SHARD_1 = 'shardId-000000000001';

export function buffered(name: string, predictedShard: string | undefined = SHARD_0): BufferedRecord {
  const data = new TextEncoder().encode(`data of ${name}`);
  return {
    record: { partitionKey: name, data },
    streamName: STREAM,
    data,
    hashKey: new Uint8Array(16),
    explicitHashKey: undefined,
    predictedShard,
    arrival: 0,
    deadline: 100,
    expiration: 30000,
    attempts: [],
  };
}

export function kinesisRecordOf(records: BufferedRecord[], size: number, predictedShard = records[0].predictedShard): KinesisRecord {
  return {
    streamName: STREAM,
    predictedShard,
    records,
    partitionKey: records.length === 1 ? records[0].record.partitionKey : 'a',
    explicitHashKey: '0',
    data: new Uint8Array(size),
    size,
    deadline: 100,
    expiration: 30000,
  };
}

export function batchOf(records: KinesisRecord[]): PutRecordsBatch {
  return { streamName: STREAM, records, size: records.reduce((n, r) => n + r.size, 0) };
}

export function attempt(overrides: Partial<Attempt> = {}): Attempt {
  return { startedAt: 100, endedAt: 130, delayMs: 100, durationMs: 30, success: true, shardId: SHARD_0, sequenceNumber: '1', ...overrides };
}

export function result(overrides: Partial<RecordResult> = {}): RecordResult {
  return {
    record: { partitionKey: 'pk', data: 'héllo' }, // 6 UTF-8 bytes
    success: true,
    shardId: SHARD_0,
    sequenceNumber: '1',
    attempts: [attempt()],
    ...overrides,
  };
}
