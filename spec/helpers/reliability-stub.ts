/**
 * Checks against the fault-injecting stub for the reliability tests: what the stub stored, by data
 * text, and the live timers and sockets of this process (to show nothing is left after close).
 */
import type { RecordResult } from '../../lib/records';
import type { FaultyKinesis } from '../../lib/testing/faulty-kinesis';

const decoder = new TextDecoder();

/** data text → times the stub stored it. */
export function storedTexts(stub: FaultyKinesis, streamName?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of stub.accepted(streamName)) {
    const text = decoder.decode(r.data);
    out.set(text, (out.get(text) ?? 0) + 1);
  }
  return out;
}

/** What the results say against what the stub stored. */
export interface StubCheck {
  readonly succeeded: number;
  readonly failed: number;
  /** Successes the stub never stored: must be 0 (successes ⊆ stored). */
  readonly successNotStored: number;
  /** Failures without an errorCode or an errorMessage: must be 0. */
  readonly failureWithoutReason: number;
  /** Records stored more than once (a request stored, then answered too late or reset). */
  readonly storedTwice: number;
  /** Failed records the stub stored anyway. */
  readonly failedButStored: number;
}

export function checkAgainstStub(stub: FaultyKinesis, results: Iterable<RecordResult>, streamName?: string): StubCheck {
  const stored = storedTexts(stub, streamName);
  let succeeded = 0;
  let failed = 0;
  let successNotStored = 0;
  let failureWithoutReason = 0;
  let failedButStored = 0;
  for (const r of results) {
    const text = typeof r.record.data === 'string' ? r.record.data : decoder.decode(r.record.data);
    if (r.success) {
      succeeded++;
      if (!stored.has(text)) successNotStored++;
    } else {
      failed++;
      if (typeof r.errorCode !== 'string' || r.errorCode === '' || typeof r.errorMessage !== 'string' || r.errorMessage === '') failureWithoutReason++;
      if (stored.has(text)) failedButStored++;
    }
  }
  const storedTwice = [...stored.values()].filter((n) => n > 1).length;
  return { succeeded, failed, successNotStored, failureWithoutReason, storedTwice, failedButStored };
}

/** Live timers and sockets of this process (`process.getActiveResourcesInfo()`; timers are not handles since Node 11). */
export function liveResources(): { timeouts: number; sockets: number } {
  const info = process.getActiveResourcesInfo();
  return {
    timeouts: info.filter((r) => r === 'Timeout').length,
    sockets: info.filter((r) => r === 'TCPSocketWrap').length,
  };
}

/**
 * Waits (at most `maxMs`) until no more timers are live than `baseline` had: a socket's or the SDK's
 * own short timer may still be finishing right after close. A timer the producer leaked stays, so the
 * check after this still catches it.
 */
export async function settleTo(baseline: { timeouts: number }, maxMs = 1500): Promise<void> {
  const until = Date.now() + maxMs;
  await settle();
  while (liveResources().timeouts > baseline.timeouts && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Lets closing handles finish (a socket's close lands a turn or two after destroy()). */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 20));
}
