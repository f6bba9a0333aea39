/**
 * Load for the reliability tests: deterministic numbered records, a source that emits them at a
 * steady rate in real time (it catches up with the wall clock every tick, so a slow tick does not
 * lower the average), and the bookkeeping of results (exactly one per record).
 */
import { Observable } from 'rxjs';
import type { RecordResult, UserRecord } from '../../lib/records';

/** `n` records over `keys` partition keys; the data `<tag>-<i>-…` is unique and names the record. */
export function reliabilityRecords(n: number, keys: number, tag: string, padding = 40): UserRecord[] {
  const pad = 'x'.repeat(padding);
  return Array.from({ length: n }, (_, i) => ({ partitionKey: `key-${i % keys}`, data: `${tag}-${i}-${pad}` }));
}

/** Milestones of a steady source: called once when the given fraction of records has been emitted. */
export interface Milestone {
  readonly at: number;
  readonly run: () => void;
}

/**
 * Emits `records` at `perSecond` (real time, every `tickMs`), then completes. Each milestone runs
 * once, when `at` × records.length records are out. Unsubscribe stops the ticks.
 */
export function steadySource(records: readonly UserRecord[], perSecond: number, milestones: readonly Milestone[] = [], tickMs = 10): Observable<UserRecord> {
  return new Observable<UserRecord>((subscriber) => {
    const started = performance.now();
    let sent = 0;
    const pending = [...milestones].sort((a, b) => a.at - b.at);
    const timer = setInterval(() => {
      const due = Math.min(records.length, Math.floor(((performance.now() - started) / 1000) * perSecond));
      while (sent < due && !subscriber.closed) {
        subscriber.next(records[sent++]);
        while (pending.length > 0 && sent >= pending[0].at * records.length) (pending.shift() as Milestone).run();
      }
      if (sent >= records.length) {
        clearInterval(timer);
        subscriber.complete();
      }
    }, tickMs);
    return () => clearInterval(timer);
  });
}

/** Results checked to be one per record: record → its result. Throws on a second result or a stranger. */
export function resultsByRecord(records: readonly UserRecord[], results: readonly RecordResult[]): Map<UserRecord, RecordResult> {
  const known = new Set(records);
  const out = new Map<UserRecord, RecordResult>();
  for (const result of results) {
    if (!known.has(result.record)) throw new Error(`a result for a record that was never put: ${JSON.stringify(result.record)}`);
    if (out.has(result.record)) throw new Error(`a second result for ${JSON.stringify(result.record)}`);
    out.set(result.record, result);
  }
  return out;
}

/** How many attempts of all results carry each error code. */
export function attemptCodes(results: Iterable<RecordResult>): Record<string, number> {
  const codes: Record<string, number> = {};
  for (const r of results) for (const a of r.attempts) if (!a.success) codes[a.errorCode ?? '?'] = (codes[a.errorCode ?? '?'] ?? 0) + 1;
  return codes;
}

/** Unanswered-request codes: a request that ended like this may have been stored (a duplicate on retry). */
export const UNANSWERED_CODES: ReadonlySet<string> = new Set(['RequestTimeout', 'TimeoutError', 'AbortError', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'Unknown']);
