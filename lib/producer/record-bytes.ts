import { utf8Length } from '../codec/size';
import type { UserRecord } from '../records';

/** Bytes a record holds while outstanding (data only, as `maxOutstandingBytes` and the KPL count). */
export function recordBytes(record: UserRecord): number {
  const data: unknown = (record as Partial<UserRecord> | null)?.data;
  if (typeof data === 'string') return utf8Length(data);
  if (data instanceof Uint8Array) return data.byteLength;
  return 0;
}
