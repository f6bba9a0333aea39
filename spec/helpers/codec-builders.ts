/**
 * Deterministic builders for the codec and deaggregate tests: buffered records, seeded bytes,
 * Kinesis `_Record`s as GetRecords returns them, and fast-check arbitraries of record sets.
 */
import type { _Record } from '@aws-sdk/client-kinesis';
import fc from 'fast-check';
import { hashKeyOfPartitionKey, bigIntToHashKey, parseExplicitHashKey } from '../../lib/codec/hash';
import type { BufferedRecord } from '../../lib/records';
import { mulberry32 } from '../../lib/testing/mulberry32';

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
export const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
export const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));


/** `length` bytes drawn from `seed`. */
export function seededBytes(length: number, seed: number): Uint8Array {
  const next = mulberry32(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (next() * 256) | 0;
  return out;
}

/** A buffered record as the aggregator holds it (hash key computed as shardPredict would). */
export function bufferedRecord(partitionKey: string, data: Uint8Array | string, explicitHashKey?: string): BufferedRecord {
  const bytes = typeof data === 'string' ? utf8(data) : data;
  const ehk = explicitHashKey === undefined ? undefined : parseExplicitHashKey(explicitHashKey);
  return {
    record: explicitHashKey === undefined ? { partitionKey, data } : { partitionKey, data, explicitHashKey },
    streamName: 'stream',
    data: bytes,
    hashKey: ehk === undefined ? hashKeyOfPartitionKey(partitionKey) : bigIntToHashKey(ehk),
    explicitHashKey: ehk === undefined ? undefined : ehk.toString(),
    predictedShard: 'shardId-000000000000',
    arrival: 0,
    deadline: 100,
    expiration: 30000,
    attempts: [],
  };
}

/** A Kinesis record as GetRecords returns it. */
export function kinesisRecord(data: Uint8Array, partitionKey = 'a', sequenceNumber = '49590338271490256608559692538361571095921575989136588898'): _Record {
  return { Data: data, PartitionKey: partitionKey, SequenceNumber: sequenceNumber, ApproximateArrivalTimestamp: new Date(0) };
}

export interface ArbRecord {
  partitionKey: string;
  explicitHashKey?: string;
  data: Uint8Array;
}

const MAX_HASH_KEY = (1n << 128n) - 1n;
/** Random data is cut from this seeded pool: far faster than drawing every byte. */
const DATA_POOL = seededBytes(1 << 16, 0x5eed);

/**
 * Random record sets: 2–`maxRecords` records whose partition keys (1–256 code points, any plane,
 * fast-check's tricky strings such as `__proto__` included) and explicit hash keys (absent, or a
 * uint128 decimal, small values favoured) come from small per-set pools, so tables get both new
 * and repeated keys. Which key each record takes, and its data (0–`maxData` bytes, skewed towards
 * short), come from one seeded PRNG per set: generating thousands of sets stays fast.
 */
export function recordSetArbitrary(maxRecords = 200, maxData = 2048): fc.Arbitrary<ArbRecord[]> {
  const pk = fc.string({ unit: 'binary', minLength: 1, maxLength: 256 });
  const ehk = fc.bigInt({ min: 0n, max: MAX_HASH_KEY }).map((v) => v.toString());
  return fc
    .record({
      pks: fc.array(pk, { minLength: 1, maxLength: 12 }),
      ehks: fc.array(ehk, { minLength: 1, maxLength: 6 }),
      count: fc.integer({ min: 2, max: maxRecords }),
      ehkShare: fc.constantFrom(0, 0.5, 1),
      seed: fc.nat(),
    })
    .map(({ pks, ehks, count, ehkShare, seed }) => {
      const next = mulberry32(seed);
      return Array.from({ length: count }, (): ArbRecord => {
        const partitionKey = pks[Math.floor(next() * pks.length)];
        const length = Math.floor(next() ** 3 * (maxData + 1));
        const offset = Math.floor(next() * (DATA_POOL.length - length));
        const data = DATA_POOL.slice(offset, offset + length);
        return next() < ehkShare
          ? { partitionKey, explicitHashKey: ehks[Math.floor(next() * ehks.length)], data }
          : { partitionKey, data };
      });
    });
}
