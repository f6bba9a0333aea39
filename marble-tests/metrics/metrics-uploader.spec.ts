import { TestScheduler } from 'rxjs/testing';
import { createMetricsRecorder } from '../../lib/metrics/metrics-recorder';
import { startMetricsUploader } from '../../lib/metrics/metrics-uploader';
import { recordingSink, totalOf } from '../../spec/helpers/metrics-sinks';

describe('startMetricsUploader (virtual time)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  it('exports every 60 s on a fixed schedule, then a final export on stop', () => {
    // time (s):   0 ─────── 60 ─────── 120 ── 130 stop()
    // exports:              x          y      (z|)
    const sink = recordingSink();
    const times: number[] = [];
    scheduler.run(() => {
      const recorder = createMetricsRecorder({ level: 'summary', granularity: 'global', now: () => scheduler.now() });
      const uploader = startMetricsUploader({
        recorder,
        sink: { ...sink, export: (b) => (times.push(scheduler.now()), sink.export(b)) },
        scheduler,
      });
      for (let t = 500; t < 130_000; t += 1000) scheduler.schedule(() => recorder.put('UserRecordsPut', 1), t);
      scheduler.schedule(() => void uploader.stop(), 130_000);
    });
    expect(times).toEqual([60_000, 120_000, 130_000]);
    // x holds seconds 0 … 59, y 60 … 119, z 120 … 129 (one put per second at .5)
    expect(sink.exports.map((e) => e.series[0].count)).toEqual([60, 60, 10]);
    expect(sink.exports.map((e) => e.timestampMs)).toEqual([60_000, 120_000, 130_000]);
  });

  it('never overlaps exports and loses or double-counts nothing, with any delay shorter or longer than 60 s', () => {
    for (const uploadDelayMs of [7_000, 25_000, 60_000, 150_000]) {
      const sink = recordingSink();
      let puts = 0;
      let putSum = 0;
      scheduler = new TestScheduler((a, e) => expect(a).toEqual(e));
      scheduler.run(() => {
        const recorder = createMetricsRecorder({ level: 'detailed', granularity: 'shard', now: () => scheduler.now() });
        const uploader = startMetricsUploader({ recorder, sink, scheduler, uploadDelayMs });
        // A put every 333 ms on 2 streams × 2 shards for 400 s: values 0, 1, 2, …
        for (let t = 0, v = 0; t < 400_000; t += 333, v++) {
          const value = v;
          scheduler.schedule(() => {
            recorder.put('BufferingTime', value, value % 2 === 0 ? 'a' : 'b', `shard-${value % 4 < 2 ? 0 : 1}`);
            puts++;
            putSum += value;
          }, t);
        }
        scheduler.schedule(() => void uploader.stop(), 400_000);
      });
      expect(totalOf(sink.exports, 'BufferingTime')).toEqual({ count: puts, sum: putSum });
      const leaves =
        totalOf(sink.exports, 'BufferingTime', { StreamName: 'a', ShardId: 'shard-0' }).count +
        totalOf(sink.exports, 'BufferingTime', { StreamName: 'a', ShardId: 'shard-1' }).count +
        totalOf(sink.exports, 'BufferingTime', { StreamName: 'b', ShardId: 'shard-0' }).count +
        totalOf(sink.exports, 'BufferingTime', { StreamName: 'b', ShardId: 'shard-1' }).count;
      expect(leaves).toBe(puts);
      // Ticks before 400 s plus the final export (stop, scheduled first, runs before a tick due at 400 s).
      expect(sink.exports.length).toBe(Math.ceil(400_000 / uploadDelayMs));
    }
  });

  it('exports each second once: a delta, not the rolling 60 s window (aiokpl D6)', () => {
    const sink = recordingSink();
    scheduler.run(() => {
      const recorder = createMetricsRecorder({ level: 'summary', granularity: 'global', now: () => scheduler.now() });
      const uploader = startMetricsUploader({ recorder, sink, scheduler, uploadDelayMs: 10_000 });
      scheduler.schedule(() => recorder.put('AllErrors', 1), 2_000);
      scheduler.schedule(() => void uploader.stop(), 35_000);
    });
    // With aiokpl's rolling window the put at 2 s would appear in every export up to 60 s.
    expect(sink.exports.map((e) => e.series.map((s) => s.count))).toEqual([[1]]);
  });

  it('skips empty exports without calling the sink', () => {
    const sink = recordingSink();
    let stats = { exports: -1, emptySkipped: -1 };
    scheduler.run(() => {
      const recorder = createMetricsRecorder({ level: 'summary', granularity: 'global', now: () => scheduler.now() });
      const uploader = startMetricsUploader({ recorder, sink, scheduler, uploadDelayMs: 1_000 });
      scheduler.schedule(() => recorder.put('UserRecordsPut', 1), 3_500);
      scheduler.schedule(() => {
        void uploader.stop();
        stats = uploader.stats;
      }, 10_000);
    });
    expect(sink.exports).toHaveLength(1);
    expect(stats).toMatchObject({ exports: 1, emptySkipped: 9 }); // ticks 1-3 and 5-9 and the final export are empty
    expect(sink.closed).toBe(1);
  });

  it('counts a throwing sink, keeps its schedule and never throws', () => {
    const errors: unknown[] = [];
    let calls = 0;
    let stats = { failures: -1, exports: -1 };
    scheduler.run(() => {
      const recorder = createMetricsRecorder({ level: 'summary', granularity: 'global', now: () => scheduler.now() });
      const uploader = startMetricsUploader({
        recorder,
        sink: {
          export: () => {
            calls++;
            if (calls === 1) throw new Error('ExpiredToken');
          },
        },
        scheduler,
        uploadDelayMs: 10_000,
        onError: (e) => errors.push(e),
      });
      for (let t = 0; t < 30_000; t += 1_000) scheduler.schedule(() => recorder.put('UserRecordsPut', 1), t);
      scheduler.schedule(() => {
        void uploader.stop();
        stats = uploader.stats;
      }, 30_000);
    });
    expect(calls).toBe(3); // 10 s, 20 s and the final export at 30 s (stop cancels the tick due then)
    expect(stats).toMatchObject({ failures: 1, exports: 2 });
    expect(errors).toEqual([new Error('ExpiredToken')]);
  });

  it('attaches a sink with onSample to the recorder until stop', () => {
    const samples: number[] = [];
    scheduler.run(() => {
      const recorder = createMetricsRecorder({ level: 'summary', granularity: 'global', now: () => scheduler.now() });
      const uploader = startMetricsUploader({
        recorder,
        sink: { export: () => {}, onSample: (_n, v) => samples.push(v) },
        scheduler,
      });
      scheduler.schedule(() => recorder.put('BufferingTime', 5), 1_000);
      scheduler.schedule(() => void uploader.stop(), 2_000);
      scheduler.schedule(() => recorder.put('BufferingTime', 6), 3_000);
    });
    expect(samples).toEqual([5]);
  });

  it('starts no timer and exports nothing for a disabled recorder', () => {
    const sink = recordingSink();
    scheduler.run(() => {
      const recorder = createMetricsRecorder({ level: 'none', granularity: 'global', now: () => scheduler.now() });
      const uploader = startMetricsUploader({ recorder, sink, scheduler, uploadDelayMs: 1_000 });
      recorder.put('UserRecordsPut', 1);
      scheduler.schedule(() => void uploader.stop(), 5_000);
    });
    expect(sink.exports).toEqual([]);
    expect(sink.closed).toBe(1);
  });
});
