import { Subject } from 'rxjs';
import { ValidationError } from '../../lib/config';
import { createMetricsRecorder } from '../../lib/metrics/metrics-recorder';
import { startMetricsUploader } from '../../lib/metrics/metrics-uploader';
import { recordingSink } from '../helpers/metrics-sinks';
import { manualClock } from '../helpers/metrics-clock';

describe('startMetricsUploader (promises and real timers)', () => {
  afterEach(() => jest.useRealTimers());

  it('leaves no timer behind after stop', async () => {
    jest.useFakeTimers();
    const recorder = createMetricsRecorder({ level: 'summary', granularity: 'global', now: () => Date.now() });
    const uploader = startMetricsUploader({ recorder, sink: recordingSink(), uploadDelayMs: 1_000 });
    expect(jest.getTimerCount()).toBe(1);
    await uploader.stop();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('counts a rejecting sink and resolves stop', async () => {
    const clock = manualClock(5_000);
    const recorder = createMetricsRecorder({ level: 'summary', granularity: 'global', now: clock.now });
    recorder.put('AllErrors', 1);
    const uploader = startMetricsUploader({
      recorder,
      sink: { export: () => Promise.reject(new Error('AccessDenied')), close: () => Promise.reject(new Error('close')) },
      uploadDelayMs: 60_000,
    });
    await expect(uploader.stop()).resolves.toBeUndefined();
    expect(uploader.stats).toMatchObject({ failures: 2, exports: 0 });
  });

  it('waits for a running export before the final one, and stop returns the same promise twice', async () => {
    const clock = manualClock(0);
    const recorder = createMetricsRecorder({ level: 'summary', granularity: 'global', now: clock.now });
    const release = new Subject<void>();
    const order: string[] = [];
    jest.useFakeTimers({ now: 0 });
    const uploader = startMetricsUploader({
      recorder,
      sink: {
        export: (b) => {
          order.push(`export ${b.series[0].count}`);
          return order.length === 1 ? new Promise<void>((r) => release.subscribe(() => r())) : undefined;
        },
        close: () => void order.push('close'),
      },
      uploadDelayMs: 1_000,
      wallClock: () => 42,
    });
    recorder.put('AllErrors', 1);
    clock.at(1, 10);
    jest.advanceTimersByTime(1_000); // first export starts and hangs
    recorder.put('AllErrors', 1);
    recorder.put('AllErrors', 1);
    jest.advanceTimersByTime(1_000); // busy: skipped
    expect(uploader.stats.busySkipped).toBe(1);
    const stopped = uploader.stop();
    expect(uploader.stop()).toBe(stopped);
    release.next();
    await stopped;
    expect(order).toEqual(['export 1', 'export 2', 'close']);
    expect(uploader.stats).toMatchObject({ exports: 2, failures: 0 });
  });

  it('keeps a fixed schedule: next run = previous scheduled run + delay, even when an export takes time', () => {
    jest.useFakeTimers({ now: 0 });
    const recorder = createMetricsRecorder({ level: 'summary', granularity: 'global', now: () => Date.now() });
    const at: number[] = [];
    const uploader = startMetricsUploader({
      recorder,
      sink: {
        export: () => {
          at.push(Date.now());
          jest.setSystemTime(Date.now() + 300); // the export "takes" 300 ms of wall clock
        },
      },
      uploadDelayMs: 1_000,
    });
    for (let i = 0; i < 4; i++) {
      recorder.put('AllErrors', 1);
      jest.advanceTimersByTime(250);
      recorder.put('AllErrors', 1);
      jest.advanceTimersByTime(750 - (i === 0 ? 0 : 300));
    }
    void uploader.stop();
    // now + delay would give 1000, 2300, 3600, …; the KPL's fixed schedule gives 1000, 2000, 3000, 4000
    expect(at.slice(0, 4)).toEqual([1_000, 2_000, 3_000, 4_000]);
  });

  it('rejects a non-positive uploadDelayMs with a ValidationError', () => {
    const recorder = createMetricsRecorder({ level: 'summary', granularity: 'global', now: () => 0 });
    expect(() => startMetricsUploader({ recorder, sink: recordingSink(), uploadDelayMs: 0 })).toThrow(ValidationError);
    expect(() => startMetricsUploader({ recorder, sink: recordingSink(), uploadDelayMs: Number.NaN })).toThrow(
      /uploadDelayMs/,
    );
  });

  it.each([5, {}, null, { export: 'x' }])('rejects a sink %p without an export method at start (not one failure per tick)', (sink) => {
    const recorder = createMetricsRecorder({ level: 'summary', granularity: 'global', now: () => 0 });
    let error: unknown;
    try {
      startMetricsUploader({ recorder, sink: sink as never });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('sink');
  });
});
