/**
 * Mirrors the KPL's upload loop (`metrics_manager.cc`, kpl.md §9): every `uploadDelayMs` on a fixed
 * schedule (next run = previous scheduled run + delay, not now + delay), export the window
 * (last checkpoint, now − 1 s], skip it when empty.
 *
 * Departures (aiokpl D6 and KPL #690): a sink failure is caught and counted (never thrown into
 * the pipeline, never logged here: the sink or `onError` decides); an export still running when
 * the next is due makes that tick skip (the next export covers its seconds, nothing is lost); and
 * `stop()` does one final export that includes the current, still-open second.
 */
import { asyncScheduler } from 'rxjs';
import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { checkMs, ValidationError } from '../config';
import type { MetricsRecorder } from './metrics-recorder';
import type { MetricExport, MetricsSink } from './metrics-sink';

/** Options of {@link startMetricsUploader}. */
export interface MetricsUploaderOptions {
  /** The recorder to drain. A disabled recorder (level `'none'`) starts no timer. */
  recorder: Pick<MetricsRecorder, 'enabled' | 'drain' | 'addSampleListener'>;
  /** Where the deltas go. */
  sink: MetricsSink;
  /** Time between exports in ms, on a fixed schedule. Default 60000 (the KPL's `MetricsUploadDelay`). */
  uploadDelayMs?: number;
  /** Where time comes from; tests pass their `TestScheduler`. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /** The export timestamp in epoch ms. Default `() => scheduler.now()` (wall clock under `asyncScheduler`). */
  wallClock?: () => number;
  /** Told of every export failure (after it is counted). Must not throw. */
  onError?: (error: unknown) => void;
}

/** Counters of a running uploader. */
export interface MetricsUploaderStats {
  /** Exports the sink accepted. */
  readonly exports: number;
  /** Ticks with nothing new to export (the sink was not called). */
  readonly emptySkipped: number;
  /** Ticks skipped because the previous export was still running. */
  readonly busySkipped: number;
  /** Exports that threw or rejected; their deltas are dropped, as the KPL drops a failed upload. */
  readonly failures: number;
  /** The last failure, if any. */
  readonly lastError?: unknown;
}

/** A running uploader; see {@link startMetricsUploader}. */
export interface MetricsUploader {
  /** Counters (a fresh object each read). */
  readonly stats: MetricsUploaderStats;
  /**
   * Cancels the timer, detaches the sink's sample listener, exports what is left (the current
   * second included), then closes the sink. Never rejects. Calling it again returns the same Promise.
   */
  stop(): Promise<void>;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** The KPL's `MetricsUploadDelay` (kpl.md §9): the default time between exports, in ms. */
export const METRICS_UPLOAD_DELAY_MS = 60000;

/**
 * Starts exporting a recorder's deltas to a sink every `uploadDelayMs`, on a fixed schedule.
 *
 * ```text
 * time (s):   0 ─────── 60 ─────── 120 ── 130 stop()
 * exports:              x          y      (z|)       uploadDelayMs 60000
 *             x = seconds 0 … 59   y = 60 … 119   z = 120 … 130 (final, current second included)
 * ```
 *
 * - Stop: the timer is cancelled, a final export runs, then `sink.close()`.
 * - Errors: a throw or rejection from the sink is counted in `stats.failures` and handed to
 *   `onError`; the uploader goes on.
 * - A sink with `onSample` is attached to the recorder until `stop()`.
 * - One uploader per recorder: each drain moves the recorder's checkpoint, so a second uploader
 *   would split the data. Send to several destinations with `fanOutSink`.
 *
 * @example
 * const uploader = startMetricsUploader({ recorder, sink: cloudWatchSink({ namespace: 'MyApp' }) });
 * // … later
 * await uploader.stop();
 *
 * @param options - recorder, sink, delay and scheduler.
 * @returns the running uploader.
 */
export function startMetricsUploader(options: MetricsUploaderOptions): MetricsUploader {
  const { recorder, sink, scheduler = asyncScheduler, onError } = options;
  const uploadDelayMs = checkMs('uploadDelayMs', options.uploadDelayMs, 1, METRICS_UPLOAD_DELAY_MS);
  // Checked now: a sink that cannot export would otherwise only be counted as a failure each tick.
  if (typeof (sink as Partial<MetricsSink> | null)?.export !== 'function') {
    throw new ValidationError('sink', sink, 'a MetricsSink (an object with an export method), e.g. cloudWatchSink(...)');
  }
  const wallClock = options.wallClock ?? (() => scheduler.now());

  // Not `exports`: that name would shadow the module's own (CommonJS) exports inside this function.
  let exported = 0;
  let emptySkipped = 0;
  let busySkipped = 0;
  let failures = 0;
  let lastError: unknown;
  let inFlight: Promise<void> | undefined;
  let stopPromise: Promise<void> | undefined;

  function fail(error: unknown): void {
    failures++;
    lastError = error;
    try {
      onError?.(error);
    } catch {
      // onError must not throw; if it does, the pipeline still must not see it.
    }
  }

  /** Drains and exports; synchronous unless the sink returns a Promise. */
  function runExport(final: boolean): Promise<void> | undefined {
    let batch: MetricExport;
    try {
      const series = recorder.drain({ includeCurrentSecond: final });
      if (series.length === 0) {
        emptySkipped++;
        return undefined;
      }
      batch = { timestampMs: wallClock(), series };
    } catch (error) {
      fail(error);
      return undefined;
    }
    let result: unknown;
    try {
      result = sink.export(batch);
    } catch (error) {
      fail(error);
      return undefined;
    }
    if (!isThenable(result)) {
      exported++;
      return undefined;
    }
    const running: Promise<void> = Promise.resolve(result).then(
      () => {
        exported++;
      },
      (error: unknown) => fail(error),
    );
    inFlight = running;
    void running.then(() => {
      if (inFlight === running) inFlight = undefined;
    });
    return running;
  }

  let unlisten: () => void = () => {};
  let timer: Subscription | undefined;
  if (recorder.enabled) {
    if (typeof sink.onSample === 'function') unlisten = recorder.addSampleListener(sink.onSample.bind(sink));
    let nextAt = scheduler.now() + uploadDelayMs;
    timer = scheduler.schedule(function tick(this: SchedulerAction<undefined>) {
      if (inFlight !== undefined) busySkipped++;
      else runExport(false);
      // Fixed schedule (kpl.md §9): next = previous scheduled + delay; periods missed while the
      // process was blocked are skipped, the next export covers their seconds.
      const now = scheduler.now();
      nextAt += uploadDelayMs;
      while (nextAt <= now) nextAt += uploadDelayMs;
      this.schedule(undefined, nextAt - now);
    }, uploadDelayMs);
  }

  function closeSink(): Promise<void> | undefined {
    try {
      const closed = sink.close?.();
      return isThenable(closed) ? Promise.resolve(closed).then(undefined, fail) : undefined;
    } catch (error) {
      fail(error);
      return undefined;
    }
  }

  function stop(): Promise<void> {
    if (stopPromise !== undefined) return stopPromise;
    timer?.unsubscribe();
    timer = undefined;
    unlisten();
    const finish = (): Promise<void> | undefined => {
      const finalExport = recorder.enabled ? runExport(true) : undefined;
      return finalExport !== undefined ? finalExport.then(closeSink) : closeSink();
    };
    // With nothing in flight the final export runs now, synchronously (TestScheduler-friendly).
    const pending = inFlight;
    stopPromise = pending !== undefined ? pending.then(finish) : Promise.resolve(finish());
    return stopPromise;
  }

  return {
    get stats(): MetricsUploaderStats {
      return { exports: exported, emptySkipped, busySkipped, failures, lastError };
    },
    stop,
  };
}
