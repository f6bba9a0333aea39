/**
 * Hash keys (kpl.md §3): a partition key's hash key is the MD5 of its UTF-8 bytes read as a
 * big-endian unsigned 128-bit integer; an explicit hash key is a canonical decimal in [0, 2^128−1].
 *
 * The hot path never builds a BigInt: a `HashKey` is the 16 digest bytes, big-endian, as js-md5's
 * `md5.array` returns them (js-md5's default `md5()` delegates to node:crypto in Node, whose
 * per-call overhead is ~3 µs; `md5.array` is pure JS and ~5× faster for short keys,
 * node-testing.md §4). Comparisons use the top 48 bits as a plain number, then the rest.
 */
import { md5 } from 'js-md5';
import { ValidationError } from '../config';

/** A 128-bit hash key as 16 bytes, most significant first. Treat as read-only. */
export type HashKey = ArrayLike<number>;

/** 2^128 − 1, the largest hash key. */
export const MAX_HASH_KEY = (1n << 128n) - 1n;

const TWO_24 = 16777216;

/**
 * How many partition keys the hash-key cache remembers per generation. Two generations are kept
 * (the current one and the one before), so a working set of up to this many keys always hits.
 */
export const HASH_KEY_CACHE_SIZE = 8192;

/** Partition keys longer than this (UTF-16 units) are hashed every time: long keys are rarely reused. */
const CACHE_MAX_KEY_LENGTH = 128;
/** Lookups per sampling window, and the misses in one window above which the cache is bypassed. */
const SAMPLE_WINDOW = 1024;
const BYPASS_ABOVE_MISSES = 512;
/** Calls hashed directly, without the cache, after a window with too many misses. */
const BYPASS_CALLS = 16384;

let recentKeys = new Map<string, HashKey>();
let olderKeys = new Map<string, HashKey>();
let lookups = 0;
let misses = 0;
let bypass = 0;

/**
 * The hash key of a partition key as 16 big-endian bytes (no BigInt, no node:crypto).
 *
 * Cached: real workloads reuse a bounded set of partition keys (user ids, device ids), and md5 is
 * the dearest per-record step of routing (issue 9: ~0.3–0.4 µs per 20-character key with js-md5;
 * a hit costs one Map read, ~20 ns). Two generations of {@link HASH_KEY_CACHE_SIZE} keys: when the
 * current one is full it becomes the older one and the one before is dropped, so memory is bounded
 * (≤ 2 × 8192 keys of ≤ 128 characters) and a key still in use moves back to the current one.
 * Keys that never repeat would only pay for the Maps (a miss costs about as much as the md5), so
 * when more than half of a window of 1,024 lookups miss (a miss costs ~2× a bare md5, so below a
 * 50% hit rate the cache loses), the next 16,384 calls skip the cache — but only once a whole
 * generation has filled: a cold cache misses every key once, and a working set of a few thousand
 * keys (more than one window) must be let in before it can hit.
 *
 * The returned bytes are SHARED between every record with that partition key: read-only.
 *
 * @example hashKeyToDecimal(hashKeyOfPartitionKey('a')) === '16955237001963240173058271559858726497'
 */
export function hashKeyOfPartitionKey(partitionKey: string): HashKey {
  if (bypass > 0) {
    bypass--;
    return md5.array(partitionKey);
  }
  if (++lookups === SAMPLE_WINDOW) {
    // Still warming (no generation has filled yet): keep every key, however many miss.
    if (misses > BYPASS_ABOVE_MISSES && olderKeys.size > 0) bypass = BYPASS_CALLS;
    lookups = 0;
    misses = 0;
  }
  let key = recentKeys.get(partitionKey);
  if (key !== undefined) return key;
  misses++;
  key = olderKeys.get(partitionKey);
  if (key === undefined) {
    key = md5.array(partitionKey);
    if (partitionKey.length > CACHE_MAX_KEY_LENGTH) return key;
  }
  if (recentKeys.size >= HASH_KEY_CACHE_SIZE) {
    olderKeys = recentKeys;
    recentKeys = new Map();
  }
  recentKeys.set(partitionKey, key);
  return key;
}

/** Empties the hash-key cache (for tests and benchmarks that measure cold hashing). */
export function clearHashKeyCache(): void {
  recentKeys = new Map();
  olderKeys = new Map();
  lookups = 0;
  misses = 0;
  bypass = 0;
}

/**
 * md5(UTF-8 partition key) read as a big-endian unsigned 128-bit integer (kpl.md §3).
 *
 * @example partitionKeyToHashKey('a') === 16955237001963240173058271559858726497n
 * @throws ValidationError when `partitionKey` is not a string.
 */
export function partitionKeyToHashKey(partitionKey: string): bigint {
  // js-md5 also hashes bytes and says only "input is invalid type" for the rest: a key is a string.
  if (typeof partitionKey !== 'string') throw new ValidationError('partitionKey', partitionKey, 'a string');
  return hashKeyToBigInt(md5.array(partitionKey));
}

/** The top 48 bits of a hash key as an exact integer < 2^48 (for fast ordered search). */
export function hashKeyTop48(key: HashKey): number {
  return ((key[0] * 256 + key[1]) * 256 + key[2]) * TWO_24 + ((key[3] * 256 + key[4]) * 256 + key[5]);
}

/** −1, 0 or 1 as a is below, equal to or above b. */
export function compareHashKeys(a: HashKey, b: HashKey): number {
  for (let i = 0; i < 16; i++) {
    const d = a[i] - b[i];
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** Scratch space for {@link hashKeyToBigInt} (synchronous use only). */
const TO_BIGINT = new DataView(new ArrayBuffer(16));

/** The 16-byte form as a bigint in [0, 2^128−1] (for public APIs and range checks, not the hot path). */
export function hashKeyToBigInt(key: HashKey): bigint {
  // Two 64-bit reads through a scratch DataView: one shift and one or instead of four BigInt
  // conversions (measured 3.4M/s → 10–11M/s for the conversion alone).
  for (let i = 0; i < 16; i += 4) {
    TO_BIGINT.setUint32(i, ((key[i] * 256 + key[i + 1]) * 256 + key[i + 2]) * 256 + key[i + 3]);
  }
  return (TO_BIGINT.getBigUint64(0) << 64n) | TO_BIGINT.getBigUint64(8);
}

/** The 16-byte form of a hash key in [0, 2^128−1]. */
export function bigIntToHashKey(value: bigint): Uint8Array {
  if (value < 0n || value > MAX_HASH_KEY) throw new RangeError(`hash key ${value} is outside [0, 2^128-1]`);
  const out = new Uint8Array(16);
  let v = value;
  for (let i = 15; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** The plain decimal string Kinesis expects as an ExplicitHashKey. */
export function hashKeyToDecimal(key: HashKey): string {
  // Below 2^53 a Number prints exactly; most keys are far above, so BigInt is the common path.
  return hashKeyToBigInt(key).toString();
}

/** A canonical decimal: `0`, or up to 39 digits without a leading zero (Kinesis's own pattern for ExplicitHashKey). */
const DECIMAL = /^(?:0|[1-9][0-9]{0,38})$/;
/** Any decimal of up to 39 significant digits (leading zeros allowed). */
const DIGITS = /^[0-9]{1,39}$/;

/** What {@link parseDecimalHashKey} accepts, for the codec's ValidationError. */
export const DECIMAL_HASH_KEY_ALLOWED = 'a decimal string of digits 0-9 in [0, 2^128-1]';

/**
 * Parses a hash key written as any decimal, leading zeros allowed — how the KCL reads an aggregated
 * record's explicit hash key table (Java `BigInteger`), and what `encodeAggregated` accepts (it
 * writes the text as given, as aws-kinesis-agg does). Records put to a producer must be canonical
 * instead ({@link parseExplicitHashKey}).
 *
 * @returns the value, or `undefined` when the text is not such a decimal in [0, 2^128−1].
 */
export function parseDecimalHashKey(text: string): bigint | undefined {
  if (typeof text !== 'string') return undefined;
  // Leading zeros may make a valid key longer than 39 digits; strip them before the length check.
  const trimmed = text.length > 39 ? text.replace(/^0+(?=\d)/, '') : text;
  if (!DIGITS.test(trimmed)) return undefined;
  const value = BigInt(trimmed);
  return value <= MAX_HASH_KEY ? value : undefined;
}

/** What a ValidationError says an explicit hash key must be (what {@link parseExplicitHashKey} accepts). */
export const EXPLICIT_HASH_KEY_ALLOWED = 'a canonical decimal string (digits 0-9, no leading zeros) in [0, 2^128-1]';

/**
 * Parses an explicit hash key: a canonical decimal (ARCHITECTURE.md "Record validation") — only
 * ASCII digits, no sign, spaces, `0x`, exponent, `_`, other scripts' digits, and no leading zeros
 * (`0` itself is fine) — of value in [0, 2^128−1]: Kinesis's own pattern for ExplicitHashKey,
 * `0|([1-9]\d{0,38})`. The KPL's Java wrapper would accept `007` and re-print it as `7` (kpl.md §3);
 * we refuse it, so the key a consumer reads back is the key put.
 *
 * @returns the value, or `undefined` when the text is not such a decimal.
 */
export function parseExplicitHashKey(text: string): bigint | undefined {
  return typeof text === 'string' && DECIMAL.test(text) ? parseDecimalHashKey(text) : undefined;
}
