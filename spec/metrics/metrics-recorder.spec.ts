import { ValidationError } from '../../lib/config';
import { createMetricsRecorder } from '../../lib/metrics/metrics-recorder';
import type { MetricsRecorderOptions } from '../../lib/metrics/metrics-recorder';
import type { MetricDimensions, MetricName } from '../../lib/metrics/metric-names';
import { byDimensions, manualClock } from '../helpers/metrics-clock';

function recorder(overrides: Partial<MetricsRecorderOptions> = {}) {
  const clock = manualClock(0);
  const metrics = createMetricsRecorder({ level: 'detailed', granularity: 'shard', now: clock.now, ...overrides });
  return { clock, metrics };
}

describe('createMetricsRecorder: level filter (kpl.md §9)', () => {
  it('drops detailed metrics at level summary and keeps summary ones', () => {
    const { metrics } = recorder({ level: 'summary' });
    metrics.put('RequestTime', 12, 's1');
    metrics.put('UserRecordsReceived', 1, 's1');
    metrics.put('BufferingTime', 40, 's1', 'shard-0');
    expect(metrics.query('RequestTime')).toEqual([]);
    expect(metrics.query('UserRecordsReceived')).toEqual([]);
    expect(metrics.query('BufferingTime').map((r) => r.count)).toEqual([1, 1, 1]);
    expect(metrics.wants('RequestTime')).toBe(false);
    expect(metrics.wants('BufferingTime')).toBe(true);
  });

  it('keeps detailed metrics at level detailed', () => {
    const { metrics } = recorder({ level: 'detailed', granularity: 'global' });
    metrics.put('RequestTime', 12, 's1');
    expect(metrics.query('RequestTime')).toEqual([
      { name: 'RequestTime', dimensions: {}, count: 1, sum: 12, min: 12, max: 12, mean: 12, seconds: 0 },
    ]);
  });

  it('records nothing at level none and says it is disabled', () => {
    const { metrics } = recorder({ level: 'none' });
    expect(metrics.enabled).toBe(false);
    metrics.put('UserRecordsPut', 1, 's1', 'shard-0');
    expect(metrics.query()).toEqual([]);
    expect(metrics.drain()).toEqual([]);
    expect(metrics.seriesCount).toBe(0);
    expect(metrics.wants('UserRecordsPut')).toBe(false);
  });
});

describe('createMetricsRecorder: granularity and dimensions', () => {
  const dims = (granularity: 'global' | 'stream' | 'shard', errorCode?: string) => {
    const { metrics } = recorder({ granularity });
    metrics.put('ErrorsByCode', 1, 's1', 'shard-0', errorCode);
    return metrics.query('ErrorsByCode').map((r) => r.dimensions);
  };

  it('keeps no stream or shard at global granularity', () => {
    expect(dims('global')).toEqual([{}]);
  });

  it('keeps StreamName at stream granularity', () => {
    expect(dims('stream')).toEqual([{}, { StreamName: 's1' }]);
  });

  it('keeps StreamName and ShardId at shard granularity', () => {
    expect(dims('shard')).toEqual([{}, { StreamName: 's1' }, { StreamName: 's1', ShardId: 'shard-0' }]);
  });

  it('keeps ErrorCode at every granularity, before StreamName and ShardId as the KPL orders them', () => {
    expect(dims('global', 'Throttled')).toEqual([{}, { ErrorCode: 'Throttled' }]);
    const shard = dims('shard', 'Throttled');
    expect(shard).toEqual([
      {},
      { ErrorCode: 'Throttled' },
      { ErrorCode: 'Throttled', StreamName: 's1' },
      { ErrorCode: 'Throttled', StreamName: 's1', ShardId: 'shard-0' },
    ]);
    expect(Object.keys(shard[3])).toEqual(['ErrorCode', 'StreamName', 'ShardId']);
  });

  it('drops blank dimension values (#594)', () => {
    const { metrics } = recorder();
    metrics.put('UserRecordsPut', 1, '', '  ', '\t');
    metrics.put('UserRecordsPut', 1, undefined, 'shard-0');
    expect(byDimensions(metrics.query('UserRecordsPut')).map((r) => [r.dimensions, r.count])).toEqual([
      [{}, 2],
      [{ ShardId: 'shard-0' }, 1],
    ]);
  });

  it('adds extra dimensions first on every series and drops blank ones', () => {
    const { metrics } = recorder({ granularity: 'stream', extraDimensions: { Host: 'h1', Empty: '' } });
    metrics.put('AllErrors', 1, 's1');
    const all = metrics.query('AllErrors').map((r) => r.dimensions);
    expect(all).toEqual([{ Host: 'h1' }, { Host: 'h1', StreamName: 's1' }]);
    expect(Object.keys(all[1])).toEqual(['Host', 'StreamName']);
  });
});

describe('createMetricsRecorder: the roll-up tree (kpl.md §9 metrics_index.cc)', () => {
  it('makes 7 series for two streams with two shards each and counts every value at each ancestor', () => {
    const { metrics } = recorder();
    let v = 1;
    for (const stream of ['a', 'b']) {
      for (const shard of ['shard-0', 'shard-1']) {
        metrics.put('UserRecordsDataPut', v, stream, shard);
        v *= 10; // 1, 10, 100, 1000: each sum shows which leaves fed it
      }
    }
    const readings = byDimensions(metrics.query('UserRecordsDataPut')).map((r) => [r.dimensions, r.count, r.sum]);
    expect(readings).toEqual([
      [{}, 4, 1111],
      [{ StreamName: 'a' }, 2, 11],
      [{ StreamName: 'a', ShardId: 'shard-0' }, 1, 1],
      [{ StreamName: 'a', ShardId: 'shard-1' }, 1, 10],
      [{ StreamName: 'b' }, 2, 1100],
      [{ StreamName: 'b', ShardId: 'shard-0' }, 1, 100],
      [{ StreamName: 'b', ShardId: 'shard-1' }, 1, 1000],
    ]);
    expect(metrics.seriesCount).toBe(7);
  });

  it('keeps series of different names apart', () => {
    const { metrics } = recorder({ granularity: 'global' });
    metrics.put('UserRecordsPut', 1);
    metrics.put('KinesisRecordsPut', 0);
    expect(metrics.query().map((r) => [r.name, r.sum])).toEqual([
      ['UserRecordsPut', 1],
      ['KinesisRecordsPut', 0],
    ]);
  });

  it('computes min, max and mean; a success rate from 1/0 samples', () => {
    const { metrics } = recorder({ granularity: 'global' });
    for (const ok of [1, 1, 0, 1]) metrics.put('UserRecordsPut', ok);
    const [r] = metrics.query('UserRecordsPut');
    expect(r).toMatchObject({ count: 4, sum: 3, min: 0, max: 1, mean: 0.75 });
  });

  it('ignores NaN and infinite values', () => {
    const { metrics } = recorder({ granularity: 'global' });
    metrics.put('RequestTime', Number.NaN);
    metrics.put('RequestTime', -Infinity);
    expect(metrics.query('RequestTime')).toEqual([]);
  });
});

describe('createMetricsRecorder: windows on the injected clock', () => {
  it('sums only the last 5 one-second buckets for windowSeconds 5', () => {
    const { clock, metrics } = recorder({ granularity: 'global' });
    for (let s = 0; s < 10; s++) {
      clock.at(s, 500);
      metrics.put('RequestTime', s);
    }
    const [r] = metrics.query('RequestTime', 5); // seconds 5 … 9
    expect(r).toMatchObject({ count: 5, sum: 35, min: 5, max: 9, mean: 7, seconds: 5 });
  });

  it('lets values older than 60 s leave the window while the cumulative read keeps them', () => {
    const { clock, metrics } = recorder({ granularity: 'global' });
    clock.at(1);
    metrics.put('RequestTime', 100);
    clock.at(30);
    metrics.put('RequestTime', 2);
    clock.at(60, 999); // second 60: window 1 … 60
    expect(metrics.query('RequestTime', 60)[0]).toMatchObject({ count: 2, sum: 102 });
    clock.at(61); // window 2 … 61
    expect(metrics.query('RequestTime', 60)[0]).toMatchObject({ count: 1, sum: 2, min: 2, max: 2 });
    clock.at(95);
    expect(metrics.query('RequestTime', 60)[0]).toMatchObject({ count: 0, sum: 0, min: 0, max: 0, mean: 0 });
    expect(metrics.query('RequestTime')[0]).toMatchObject({ count: 2, sum: 102, min: 2, max: 100, seconds: 95 });
  });

  it('rejects a name that is not a KPL metric name with a ValidationError naming it (a typo must not read as "no samples")', () => {
    const { metrics } = recorder();
    expect(() => metrics.query('UserRecordPut')).toThrow(/name is "UserRecordPut"; allowed: one of the KPL metric names \(UserRecordsReceived, /);
    expect(() => metrics.query(5 as unknown as string)).toThrow(ValidationError);
    expect(() => metrics.query('UserRecordsPut')).not.toThrow();
  });

  it('rejects a window outside 1 … 60 seconds with a ValidationError', () => {
    const { metrics } = recorder();
    expect(() => metrics.query(undefined, 0)).toThrow(ValidationError);
    expect(() => metrics.query(undefined, 61)).toThrow(/windowSeconds is 61/);
    expect(() => metrics.query(undefined, 2.5)).toThrow(ValidationError);
    expect(() => createMetricsRecorder({ level: 'none', granularity: 'shard', now: () => 0 }).query('x', 0)).toThrow(
      ValidationError,
    );
  });

  it('reads nothing for a KPL name with no samples yet', () => {
    const { metrics } = recorder();
    metrics.put('UserRecordsPut', 1, 's1');
    expect(metrics.query('RequestTime')).toEqual([]);
  });
});

describe('createMetricsRecorder: drain (the uploader delta)', () => {
  it('drains complete seconds only, then the open second when asked', () => {
    const { clock, metrics } = recorder({ granularity: 'stream' });
    clock.at(0, 100);
    metrics.put('RequestTime', 10, 's1');
    clock.at(1, 200);
    metrics.put('RequestTime', 30, 's1');
    const first = metrics.drain(); // through second 0
    expect(first.map((d) => [d.dimensions, d.count, d.sum, d.unit])).toEqual([
      [{}, 1, 10, 'Milliseconds'],
      [{ StreamName: 's1' }, 1, 10, 'Milliseconds'],
    ]);
    expect(metrics.drain()).toEqual([]);
    const final = metrics.drain({ includeCurrentSecond: true });
    expect(final.map((d) => [d.count, d.sum, d.min, d.max])).toEqual([
      [1, 30, 30, 30],
      [1, 30, 30, 30],
    ]);
  });
});

describe('createMetricsRecorder: sample listeners', () => {
  it('calls each listener once per kept sample with the leaf series dimensions', () => {
    const { metrics } = recorder({ level: 'summary' });
    const seen: [MetricName, number, MetricDimensions][] = [];
    const stop = metrics.addSampleListener((n, v, d) => seen.push([n, v, d]));
    metrics.put('BufferingTime', 42, 's1', 'shard-0');
    metrics.put('RequestTime', 5, 's1'); // detailed: dropped before listeners
    stop();
    metrics.put('BufferingTime', 1, 's1', 'shard-0');
    expect(seen).toEqual([['BufferingTime', 42, { StreamName: 's1', ShardId: 'shard-0' }]]);
  });

  it('counts a throwing listener and keeps recording', () => {
    const { metrics } = recorder();
    const calls: number[] = [];
    metrics.addSampleListener(() => {
      throw new Error('boom');
    });
    metrics.addSampleListener((_n, v) => calls.push(v));
    expect(() => metrics.put('UserRecordsReceived', 1, 's1')).not.toThrow();
    expect(metrics.listenerErrors).toBe(1);
    expect(calls).toEqual([1]);
    expect(metrics.query('UserRecordsReceived')[0].count).toBe(1);
  });

  it('removes only the listener whose remover is called', () => {
    const { metrics } = recorder();
    const a: number[] = [];
    const listener = (_n: MetricName, v: number) => a.push(v);
    const removeFirst = metrics.addSampleListener(listener);
    metrics.addSampleListener(listener);
    removeFirst();
    removeFirst();
    metrics.put('UserRecordsReceived', 7);
    expect(a).toEqual([7]);
  });
});

describe('createMetricsRecorder: types', () => {
  it('takes only KPL metric names in put', () => {
    const { metrics } = recorder();
    // @ts-expect-error ExpiredRecords is not a KPL metric name (aiokpl D6)
    metrics.put('ExpiredRecords', 1);
    expect(metrics.query()).toEqual([]);
  });
});

describe('createMetricsRecorder: roll-up on read, putAt', () => {
  it('combines an ancestor from its own samples and its descendants, min and max included, in reads and drains', () => {
    const { clock, metrics } = recorder();
    metrics.put('BufferingTime', 50, 'a'); // no shard: the stream series' own sample
    metrics.put('BufferingTime', 5, 'a', 'shard-0');
    metrics.put('BufferingTime', 500, 'a', 'shard-1');
    metrics.put('BufferingTime', 7); // no stream: the root's own sample
    const read = (dims: MetricDimensions) => metrics.query('BufferingTime').find((r) => JSON.stringify(r.dimensions) === JSON.stringify(dims));
    expect(read({})).toMatchObject({ count: 4, sum: 562, min: 5, max: 500 });
    expect(read({ StreamName: 'a' })).toMatchObject({ count: 3, sum: 555, min: 5, max: 500 });
    expect(read({ StreamName: 'a', ShardId: 'shard-0' })).toMatchObject({ count: 1, sum: 5, min: 5, max: 5 });
    clock.at(1);
    metrics.put('BufferingTime', 1, 'a', 'shard-0');
    const first = metrics.drain();
    expect(first.find((d) => Object.keys(d.dimensions).length === 0)).toMatchObject({ count: 4, sum: 562, min: 5, max: 500 });
    const second = metrics.drain({ includeCurrentSecond: true });
    expect(byDimensions(second).map((d) => [d.dimensions, d.count, d.min])).toEqual([
      [{}, 1, 1],
      [{ StreamName: 'a' }, 1, 1],
      [{ StreamName: 'a', ShardId: 'shard-0' }, 1, 1],
    ]);
    expect(read({})).toMatchObject({ count: 5, min: 1, max: 500 }); // a drain never changes the local reading
  });

  it('reads the clock once with second() and puts into that second with putAt', () => {
    const { clock, metrics } = recorder();
    clock.at(3, 900);
    const t = metrics.second();
    expect(t).toBe(3);
    clock.at(4, 100);
    metrics.putAt(t, 'UserRecordsPut', 1, 's', 'shard-0');
    metrics.put('UserRecordsPut', 1, 's', 'shard-0');
    expect(metrics.drain({ includeCurrentSecond: false }).find((d) => Object.keys(d.dimensions).length === 0)).toMatchObject({ count: 1 });
    expect(metrics.query('UserRecordsPut', 1).find((r) => Object.keys(r.dimensions).length === 0)).toMatchObject({ count: 1 });
    expect(metrics.query('UserRecordsPut', 2).find((r) => Object.keys(r.dimensions).length === 0)).toMatchObject({ count: 2 });
  });

  it('keeps putAt at level none a no-op', () => {
    const { metrics } = recorder({ level: 'none' });
    metrics.putAt(metrics.second(), 'UserRecordsPut', 1, 's');
    expect(metrics.query()).toEqual([]);
  });
});

describe('createMetricsRecorder: series handles', () => {
  it('puts through a held handle into the same series as put, which appears only after its first sample', () => {
    const { metrics } = recorder();
    const handle = metrics.series('UserRecordsPut', 's', 'shard-0');
    expect(metrics.query()).toEqual([]); // an unused handle adds no series
    handle?.putAt(metrics.second(), 1);
    handle?.putAt(metrics.second(), 0);
    handle?.putAt(metrics.second(), Number.NaN); // ignored like put's
    metrics.put('UserRecordsPut', 1, 's', 'shard-0');
    expect(byDimensions(metrics.query('UserRecordsPut')).map((r) => [r.dimensions, r.count, r.sum])).toEqual([
      [{}, 3, 2],
      [{ StreamName: 's' }, 3, 2],
      [{ StreamName: 's', ShardId: 'shard-0' }, 3, 2],
    ]);
  });

  it('gives no handle for a metric the level drops, and cuts dimensions finer than the granularity', () => {
    const { metrics } = recorder({ level: 'summary', granularity: 'stream' });
    expect(metrics.series('RequestTime', 's')).toBeUndefined();
    metrics.series('UserRecordsPut', 's', 'shard-0')?.putAt(0, 1);
    expect(metrics.query('UserRecordsPut').map((r) => r.dimensions)).toEqual([{}, { StreamName: 's' }]);
  });

  it('calls sample listeners for handle puts too', () => {
    const { metrics } = recorder();
    const seen: unknown[] = [];
    metrics.addSampleListener((name, value, dimensions) => seen.push([name, value, dimensions]));
    metrics.series('BufferingTime', 's')?.putAt(0, 12);
    expect(seen).toEqual([['BufferingTime', 12, { StreamName: 's' }]]);
  });
});
