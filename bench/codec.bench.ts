/**
 * Codec throughput: encode and decode of 100-byte records in batches of 500 (~50 KB blobs), with
 * 100 and with 1,000 distinct 20-character partition keys, ours against aws-kinesis-agg 4.2.8
 * (`RecordAggregator` to encode, `deaggregateSync` with checksums to decode), in one process; and
 * the hash-key paths for distinct 20-character keys.
 *
 * Targets: encode ≥ 3× and decode ≥ 3× aws-kinesis-agg; `hashKeyOfPartitionKey` and
 * `partitionKeyToHashKey` ≥ 2M keys/s.
 *
 * Run: node -r ts-node/register/transpile-only bench/codec.bench.ts
 */
import { AggregateBuilder, decodeAggregated, encodeAggregated, encodeBufferedRecords, type AggregationInput } from '../lib/codec/aggregation';
import { hashKeyOfPartitionKey, partitionKeyToHashKey } from '../lib/codec/hash';
import type { BufferedRecord } from '../lib/records';

interface AggV3UserRecord {
  Data: string;
}
interface AwsKinesisAgg {
  RecordAggregator: new () => {
    addUserRecord(record: { partitionKey: string; data: Buffer }): void;
    build(): { data: Buffer };
  };
  deaggregateSync(
    record: { Data: Uint8Array; PartitionKey: string; SequenceNumber: string },
    computeChecksums: boolean,
    callback: (err: Error | null | undefined, records?: AggV3UserRecord[]) => void,
  ): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const agg = require('aws-kinesis-agg') as AwsKinesisAgg;

const BATCH = 500;
const BATCHES = 40; // 20,000 records per pass
const RECORD_BYTES = 100;
const MIN_MS = 1500;

/** Runs `fn` (which handles `perCall` items) repeatedly for MIN_MS after a warm-up; returns items/s. */
function measure(perCall: number, fn: () => void): number {
  const warmUntil = performance.now() + MIN_MS / 4;
  while (performance.now() < warmUntil) fn();
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < MIN_MS) {
    fn();
    calls++;
    now = performance.now();
  }
  return (calls * perCall) / ((now - start) / 1000);
}

const fmt = (perSecond: number): string => `${(perSecond / 1e6).toFixed(2)} M/s`;
const key = (i: number): string => `partition-key-${String(i).padStart(6, '0')}`; // 20 characters

function dataset(distinctKeys: number): { inputs: AggregationInput[][]; buffered: BufferedRecord[][]; sizes: number[] } {
  let seed = 12345;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const inputs: AggregationInput[][] = [];
  const buffered: BufferedRecord[][] = [];
  const sizes: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const batch: AggregationInput[] = [];
    const builder = new AggregateBuilder();
    for (let i = 0; i < BATCH; i++) {
      const data = Buffer.alloc(RECORD_BYTES, next() & 0xff);
      const partitionKey = key(next() % distinctKeys);
      batch.push({ partitionKey, data });
      builder.add(partitionKey, undefined, data);
    }
    inputs.push(batch);
    sizes.push(builder.aggregatedSize);
    buffered.push(
      batch.map((r) => ({
        record: r,
        streamName: 's',
        data: r.data as Uint8Array,
        hashKey: hashKeyOfPartitionKey(r.partitionKey),
        explicitHashKey: undefined,
        predictedShard: undefined,
        arrival: 0,
        deadline: 0,
        expiration: 0,
        attempts: [],
      })),
    );
  }
  return { inputs, buffered, sizes };
}

function codecRound(distinctKeys: number): { encodeRatio: number; decodeRatio: number } {
  const { inputs, buffered, sizes } = dataset(distinctKeys);
  const total = BATCH * BATCHES;
  const blobs = inputs.map((b) => encodeAggregated(b));
  const theirBlobs = inputs.map((b) => {
    const ra = new agg.RecordAggregator();
    for (const r of b) ra.addUserRecord({ partitionKey: r.partitionKey, data: r.data as Buffer });
    return ra.build().data;
  });
  for (let i = 0; i < BATCHES; i++) {
    if (Buffer.compare(blobs[i], theirBlobs[i]) !== 0) throw new Error('aws-kinesis-agg bytes differ from ours');
  }
  const avgBlob = Math.round(blobs.reduce((s, b) => s + b.length, 0) / BATCHES);

  const oursEncode = measure(total, () => {
    for (const b of inputs) encodeAggregated(b);
  });
  const oursBuffered = measure(total, () => {
    for (let i = 0; i < BATCHES; i++) encodeBufferedRecords(buffered[i], sizes[i]);
  });
  const theirsEncode = measure(total, () => {
    for (const b of inputs) {
      const ra = new agg.RecordAggregator();
      for (const r of b) ra.addUserRecord({ partitionKey: r.partitionKey, data: r.data as Buffer });
      ra.build();
    }
  });
  const oursDecode = measure(total, () => {
    for (const blob of blobs) decodeAggregated(blob);
  });
  const theirsDecode = measure(total, () => {
    for (const blob of blobs) agg.deaggregateSync({ Data: blob, PartitionKey: 'a', SequenceNumber: '1' }, true, () => undefined);
  });

  console.log(`\n${distinctKeys} distinct keys, batches of ${BATCH} × ${RECORD_BYTES} B records (blob ≈ ${avgBlob} B)`);
  console.log(`  encode  ours encodeAggregated      ${fmt(oursEncode)} records/s`);
  console.log(`  encode  ours encodeBufferedRecords ${fmt(oursBuffered)} records/s`);
  console.log(`  encode  aws-kinesis-agg            ${fmt(theirsEncode)} records/s`);
  console.log(`  encode  ratio ${(oursEncode / theirsEncode).toFixed(2)}× (target ≥ 3×)`);
  console.log(`  decode  ours decodeAggregated      ${fmt(oursDecode)} records/s`);
  console.log(`  decode  aws-kinesis-agg            ${fmt(theirsDecode)} records/s`);
  console.log(`  decode  ratio ${(oursDecode / theirsDecode).toFixed(2)}× (target ≥ 3×)`);
  return { encodeRatio: oursEncode / theirsEncode, decodeRatio: oursDecode / theirsDecode };
}

function hashRound(): void {
  const keys = Array.from({ length: 200000 }, (_, i) => key(i));
  let sink = 0;
  const plain = measure(keys.length, () => {
    for (const k of keys) sink += hashKeyOfPartitionKey(k)[0];
  });
  const big = measure(keys.length, () => {
    for (const k of keys) if (partitionKeyToHashKey(k) === 0n) sink++;
  });
  console.log(`\nhash keys of ${keys.length} distinct 20-character keys (sink ${sink % 7})`);
  console.log(`  hashKeyOfPartitionKey  ${fmt(plain)} keys/s (target ≥ 2M/s: ${(plain / 2e6).toFixed(2)}×)`);
  console.log(`  partitionKeyToHashKey  ${fmt(big)} keys/s (target ≥ 2M/s: ${(big / 2e6).toFixed(2)}×)`);
}

const r100 = codecRound(100);
const r1000 = codecRound(1000);
hashRound();
const worst = Math.min(r100.encodeRatio, r100.decodeRatio, r1000.encodeRatio, r1000.decodeRatio);
console.log(`\nworst codec ratio against aws-kinesis-agg: ${worst.toFixed(2)}× (target ≥ 3×)`);
