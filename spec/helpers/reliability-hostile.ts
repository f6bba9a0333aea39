/**
 * Hostile user records for the reliability tests: every kind of invalid field (ARCHITECTURE.md
 * "Record validation", kpl.md §3), each with the field its ValidationError must name, and good
 * records to interleave with them.
 */
import type { UserRecord } from '../../lib/records';

/** The `maxUserRecordSize` the hostile tests run with. */
export const HOSTILE_MAX_USER_RECORD_SIZE = 1024;

/** One invalid record and the field its ValidationError names. */
export interface HostileRecord {
  readonly label: string;
  readonly record: unknown;
  readonly field: 'record' | 'partitionKey' | 'data' | 'explicitHashKey' | 'streamName';
}

const TWO_TO_128 = (1n << 128n).toString();

/** Every kind of invalid field the producer must refuse, one record each. */
export function hostileRecords(): HostileRecord[] {
  return [
    { label: 'a number', record: 42, field: 'record' },
    { label: 'a string', record: 'pk,data', field: 'record' },
    { label: 'an array', record: ['pk', 'data'], field: 'record' },
    { label: 'null', record: null, field: 'record' },
    { label: 'undefined', record: undefined, field: 'record' },
    { label: 'no partitionKey', record: { data: 'x' }, field: 'partitionKey' },
    { label: 'an empty partitionKey', record: { partitionKey: '', data: 'x' }, field: 'partitionKey' },
    { label: 'a 257-character partitionKey', record: { partitionKey: 'k'.repeat(257), data: 'x' }, field: 'partitionKey' },
    { label: 'a numeric partitionKey', record: { partitionKey: 7, data: 'x' }, field: 'partitionKey' },
    { label: 'a String-object partitionKey', record: { partitionKey: new String('k'), data: 'x' }, field: 'partitionKey' },
    { label: 'no data', record: { partitionKey: 'k' }, field: 'data' },
    { label: 'null data', record: { partitionKey: 'k', data: null }, field: 'data' },
    { label: 'numeric data', record: { partitionKey: 'k', data: 12 }, field: 'data' },
    { label: 'object data', record: { partitionKey: 'k', data: { a: 1 } }, field: 'data' },
    { label: 'array data', record: { partitionKey: 'k', data: [1, 2, 3] }, field: 'data' },
    { label: 'ArrayBuffer data', record: { partitionKey: 'k', data: new ArrayBuffer(4) }, field: 'data' },
    { label: 'DataView data', record: { partitionKey: 'k', data: new DataView(new ArrayBuffer(4)) }, field: 'data' },
    { label: 'bytes over maxUserRecordSize', record: { partitionKey: 'k', data: new Uint8Array(HOSTILE_MAX_USER_RECORD_SIZE + 1) }, field: 'data' },
    // 400 characters, 1,200 bytes of UTF-8: the limit is on bytes, not characters
    { label: 'a string over maxUserRecordSize in UTF-8 only', record: { partitionKey: 'k', data: '€'.repeat(400) }, field: 'data' },
    { label: "explicitHashKey '-1'", record: { partitionKey: 'k', data: 'x', explicitHashKey: '-1' }, field: 'explicitHashKey' },
    { label: 'explicitHashKey 2^128', record: { partitionKey: 'k', data: 'x', explicitHashKey: TWO_TO_128 }, field: 'explicitHashKey' },
    { label: "explicitHashKey ' 1'", record: { partitionKey: 'k', data: 'x', explicitHashKey: ' 1' }, field: 'explicitHashKey' },
    { label: "explicitHashKey '0x10'", record: { partitionKey: 'k', data: 'x', explicitHashKey: '0x10' }, field: 'explicitHashKey' },
    { label: "explicitHashKey ''", record: { partitionKey: 'k', data: 'x', explicitHashKey: '' }, field: 'explicitHashKey' },
    { label: "explicitHashKey '1e3'", record: { partitionKey: 'k', data: 'x', explicitHashKey: '1e3' }, field: 'explicitHashKey' },
    { label: 'numeric explicitHashKey', record: { partitionKey: 'k', data: 'x', explicitHashKey: 16 }, field: 'explicitHashKey' },
    { label: "streamName ''", record: { partitionKey: 'k', data: 'x', streamName: '' }, field: 'streamName' },
    { label: "streamName '   '", record: { partitionKey: 'k', data: 'x', streamName: '   ' }, field: 'streamName' },
    { label: 'numeric streamName', record: { partitionKey: 'k', data: 'x', streamName: 42 }, field: 'streamName' },
    { label: 'object streamName', record: { partitionKey: 'k', data: 'x', streamName: { name: 's' } }, field: 'streamName' },
  ];
}

/**
 * Partition keys with lone surrogates: not well-formed UTF-16, so UTF-8 encoding silently turns each
 * into U+FFFD (two different keys become one, and the KCL reads back another key than was put).
 */
export const LONE_SURROGATE_KEYS: readonly string[] = ['\uD800', 'a\uDC00b', '\uDBFF\uDBFF'];

/** `n` good records, `good-<i>` data, over 10 keys. */
export function goodRecords(n: number): UserRecord[] {
  return Array.from({ length: n }, (_, i) => ({ partitionKey: `good-key-${i % 10}`, data: `good-${i}` }));
}

/** The good records with one hostile record after every `every` good ones (cycling through the list). */
export function interleave(good: readonly UserRecord[], hostile: readonly HostileRecord[], every = 2): unknown[] {
  const out: unknown[] = [];
  let h = 0;
  good.forEach((record, i) => {
    out.push(record);
    if ((i + 1) % every === 0 && h < hostile.length) out.push(hostile[h++].record);
  });
  while (h < hostile.length) out.push(hostile[h++].record);
  return out;
}
