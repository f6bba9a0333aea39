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

/** A 128-bit hash key as 16 bytes, most significant first. Treat as read-only. */
export type HashKey = ArrayLike<number>;

/** 2^128 − 1, the largest hash key. */
export const MAX_HASH_KEY = (1n << 128n) - 1n;

const TWO_24 = 16777216;

/** The hash key of a partition key as 16 big-endian bytes (no BigInt, no node:crypto). */
export function hashKeyOfPartitionKey(partitionKey: string): HashKey {
  return md5.array(partitionKey);
}

/**
 * md5(UTF-8 partition key) read as a big-endian unsigned 128-bit integer (kpl.md §3).
 *
 * @example partitionKeyToHashKey('a') === 16955237001963240173058271559858726497n
 */
export function partitionKeyToHashKey(partitionKey: string): bigint {
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

export function hashKeyToBigInt(key: HashKey): bigint {
  // Four 32-bit words: fewer BigInt operations than sixteen bytes.
  let value = 0n;
  for (let i = 0; i < 16; i += 4) {
    const word = ((key[i] * 256 + key[i + 1]) * 256 + key[i + 2]) * 256 + key[i + 3];
    value = (value << 32n) | BigInt(word);
  }
  return value;
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

const DECIMAL = /^[0-9]{1,39}$/;

/**
 * Parses an explicit hash key: only ASCII decimal digits (no sign, spaces, `0x`, exponent, `_`,
 * other scripts' digits), value in [0, 2^128−1]. Leading zeros are accepted (the KPL's Java
 * wrapper parses with BigInteger and re-prints the canonical form, kpl.md §3).
 *
 * @returns the value, or `undefined` when the text is not such a decimal.
 */
export function parseExplicitHashKey(text: string): bigint | undefined {
  if (typeof text !== 'string') return undefined;
  // Leading zeros may make a valid key longer than 39 digits; strip them before the length check.
  const trimmed = text.length > 39 ? text.replace(/^0+(?=\d)/, '') : text;
  if (!DECIMAL.test(trimmed)) return undefined;
  const value = BigInt(trimmed);
  return value <= MAX_HASH_KEY ? value : undefined;
}
