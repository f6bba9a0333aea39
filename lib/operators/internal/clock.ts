/**
 * A scheduler's clock for per-record stamps, read once per burst of records instead of once per
 * record. A read of the real clock (`Date.now()` behind rxjs's schedulers) costs ~55–90 ns on this
 * kind of machine, as much as predicting a record's shard (issue 9); the clock's resolution is 1 ms,
 * so records of one synchronous burst share a reading without losing anything that can be seen.
 *
 * Rules, so a stamp is never later than the true time and never stale past the burst:
 * - a reading serves at most {@link RECORDS_PER_READ} calls, and only until the current task
 *   ends (a microtask clears it: the next task reads the clock again);
 * - a stale reading is earlier than the true time, so a stamped deadline can only be early (a
 *   batch closes sooner, never later), by at most the time of RECORDS_PER_READ records;
 * - virtual time (a `TestScheduler`, or rxjs's schedulers inside `TestScheduler.run`, whose time
 *   moves between actions of one synchronous flush) and any other clock are read on every call.
 */
import { asyncScheduler, type SchedulerLike } from 'rxjs';

/** Calls one clock reading serves at most. */
export const RECORDS_PER_READ = 32;

/** rxjs's real-time clock (`dateTimestampProvider.now`), shared by async, asap, queue and animationFrame. */
const REAL_TIME_NOW = asyncScheduler.now;

/**
 * Readings below this (2020-01-01) are virtual time: inside `TestScheduler.run` rxjs's clock is
 * delegated to the test's frames, which start at 0 (50 years of virtual time would be needed to get
 * here). A real clock set before 2020 is merely read on every call.
 */
const REAL_TIME_FLOOR_MS = 1577836800000;

/**
 * A function returning `scheduler.now()`, or a reading of it made earlier in the same task and at
 * most {@link RECORDS_PER_READ} calls ago (see the rules above). One per subscription.
 *
 * @example
 * ```ts
 * const now = burstClock(scheduler);
 * const stamp = now(); // in a per-record next
 * ```
 */
export function burstClock(scheduler: SchedulerLike): () => number {
  if (scheduler.now !== REAL_TIME_NOW) return () => scheduler.now();
  let reading = 0;
  let left = 0;
  let endOfTaskQueued = false;
  const endOfTask = (): void => {
    left = 0;
    endOfTaskQueued = false;
  };
  return () => {
    if (left > 0) {
      left--;
      return reading;
    }
    reading = scheduler.now();
    if (reading >= REAL_TIME_FLOOR_MS) {
      left = RECORDS_PER_READ - 1;
      if (!endOfTaskQueued) {
        endOfTaskQueued = true;
        queueMicrotask(endOfTask);
      }
    }
    return reading;
  };
}
