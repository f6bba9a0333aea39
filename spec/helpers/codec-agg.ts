/**
 * aws-kinesis-agg 4.2.8 (awslabs), typed for the tests and the benchmark. Its own index.d.ts
 * imports aws-sdk v2 and aws-lambda types and declares no `RecordAggregator`, so it is required
 * through this narrow interface instead (node-testing.md §3).
 */

export interface AggInputRecord {
  partitionKey: string;
  explicitHashKey?: string;
  data: Uint8Array | string;
}

/** What `deaggregateSync` gives for an SDK v3 shaped input: keys capitalised, `Data` base64. */
export interface AggV3UserRecord {
  PartitionKey: string;
  ExplicitPartitionKey?: string;
  SequenceNumber: string;
  SubSequenceNumber?: number;
  Data: string;
}

export interface AggRecordAggregator {
  addUserRecord(record: { partitionKey: string; explicitHashKey?: string; data: Buffer | string }): void;
  build(): { partitionKey: string; data: Buffer } | undefined;
  length(): number;
}

export interface AwsKinesisAgg {
  RecordAggregator: new () => AggRecordAggregator;
  deaggregateSync(
    record: { Data: Uint8Array; PartitionKey: string; SequenceNumber: string },
    computeChecksums: boolean,
    callback: (err: Error | null | undefined, records?: AggV3UserRecord[]) => void,
  ): void;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const agg = require('aws-kinesis-agg') as AwsKinesisAgg;

/** aws-kinesis-agg's blob for records (copies each record: `addUserRecord` mutates string data). */
export function aggEncode(records: readonly AggInputRecord[]): Buffer {
  const aggregator = new agg.RecordAggregator();
  for (const r of records) aggregator.addUserRecord({ ...r, data: typeof r.data === 'string' ? r.data : Buffer.from(r.data) });
  const built = aggregator.build();
  if (built === undefined) throw new Error('aws-kinesis-agg built nothing');
  return built.data;
}

/** aws-kinesis-agg's reading of a blob (with checksums), synchronously. */
export function aggDecode(blob: Uint8Array): AggV3UserRecord[] {
  let result: AggV3UserRecord[] | undefined;
  let error: Error | null | undefined;
  agg.deaggregateSync({ Data: blob, PartitionKey: 'a', SequenceNumber: '1' }, true, (err, records) => {
    error = err;
    result = records;
  });
  if (error) throw error;
  if (result === undefined) throw new Error('deaggregateSync did not call back');
  return result;
}

/**
 * True when aws-kinesis-agg would reorder the key: its key tables are plain objects, and
 * `Object.keys` lists integer-like keys ("7", an EHK below 2^32 − 1) first, in numeric order —
 * not the KPL's first-seen order (their bug). `__proto__` would not even be stored.
 */
export function aggReordersKey(key: string): boolean {
  return key === '__proto__' || (/^(0|[1-9][0-9]*)$/.test(key) && Number(key) < 4294967295);
}
