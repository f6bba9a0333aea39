/**
 * Framing shared by the aggregation encoder and decoder (kpl.md §2): the 4 magic bytes before the
 * protobuf, the 16-byte MD5 of the protobuf after it.
 */
import * as crypto from 'node:crypto';

/** The 4 bytes every aggregated record starts with (the KPL's `kMagic`). */
export const AGGREGATION_MAGIC: Uint8Array = Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2);

export const MAGIC_LENGTH = 4;
export const MD5_LENGTH = 16;

type OneShotHash = (algorithm: string, data: Uint8Array, outputEncoding: 'buffer') => Uint8Array;
const oneShotHash: OneShotHash | undefined =
  typeof (crypto as { hash?: unknown }).hash === 'function' ? (crypto.hash as unknown as OneShotHash) : undefined;

/** MD5 of `bytes` as 16 bytes: one-shot `crypto.hash` (Node ≥ 20.12), else `createHash`. */
export function md5Bytes(bytes: Uint8Array): Uint8Array {
  if (oneShotHash !== undefined) return oneShotHash('md5', bytes, 'buffer');
  return crypto.createHash('md5').update(bytes).digest();
}

/**
 * True when `bytes` looks like a KPL aggregated record: at least 20 bytes (magic + MD5) and the
 * magic prefix `F3 89 9A C2`. Cheap: the checksum is not verified, so a `true` may still fail to
 * decode ({@link decodeAggregated} says why).
 *
 * @example isAggregated(encodeAggregated([{ partitionKey: 'a', data: 'x' }])) === true
 *
 * @param bytes - a Kinesis record's data.
 * @returns whether it carries the aggregation magic.
 */
export function isAggregated(bytes: Uint8Array): boolean {
  return (
    bytes.length >= MAGIC_LENGTH + MD5_LENGTH &&
    bytes[0] === 0xf3 &&
    bytes[1] === 0x89 &&
    bytes[2] === 0x9a &&
    bytes[3] === 0xc2
  );
}
