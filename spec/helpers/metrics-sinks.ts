/** Fake metrics sinks and clients for metrics tests: they record what they are given. */
import type { MetricExport, MetricsSink } from '../../lib/metrics/metrics-sink';
import type { MetricDelta } from '../../lib/metrics/metrics-recorder';

/** A sink that keeps every export (synchronously) with the virtual time it came at. */
export interface RecordingSink extends MetricsSink {
  readonly exports: MetricExport[];
  closed: number;
}

export function recordingSink(): RecordingSink {
  const exports: MetricExport[] = [];
  const sink: RecordingSink = {
    exports,
    closed: 0,
    export: (batch) => {
      exports.push(batch);
    },
    close: () => {
      sink.closed++;
    },
  };
  return sink;
}

/** Totals of one series (by name and dimensions) across exports. */
export function totalOf(exports: readonly MetricExport[], name: string, dimensions: Record<string, string> = {}) {
  const key = JSON.stringify(dimensions);
  let count = 0;
  let sum = 0;
  for (const e of exports) {
    for (const s of e.series) {
      if (s.name === name && JSON.stringify(s.dimensions) === key) {
        count += s.count;
        sum += s.sum;
      }
    }
  }
  return { count, sum };
}

/** A series delta with defaults, for sink tests. */
export function delta(overrides: Partial<MetricDelta> = {}): MetricDelta {
  return {
    name: 'UserRecordsPut',
    unit: 'Count',
    dimensions: { StreamName: 'orders', ShardId: 'shardId-000000000001' },
    count: 10,
    sum: 9,
    min: 0,
    max: 1,
    ...overrides,
  };
}

/** An export of the given deltas at a fixed wall-clock time (2026-01-01T00:00:00Z). */
export function exportOf(series: MetricDelta[], timestampMs = Date.UTC(2026, 0, 1)): MetricExport {
  return { timestampMs, series };
}
