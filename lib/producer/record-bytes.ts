import { utf8Length } from '../codec/size';
import type { UserRecord } from '../records';

/** Bytes a record holds while outstanding (data only, as `maxOutstandingBytes` and the KPL count). */
export function recordBytes(record: UserRecord): number {
  let data: unknown;
  try {
    data = (record as Partial<UserRecord> | null)?.data;
  } catch {
    return 0; // a hostile getter: validation refuses the record; it must not break the count
  }
  if (typeof data === 'string') return utf8Length(data);
  if (data instanceof Uint8Array) return data.byteLength;
  return 0;
}
