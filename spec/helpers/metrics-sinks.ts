/** Fake metrics sinks and clients for metrics tests: they record what they are given. */
import type { MetricExport, MetricsSink } from '../../lib/metrics/metrics-sink';
import type { MetricDelta } from '../../lib/metrics/metrics-recorder';

/** A sink that keeps every export (synchronously) and counts its closes. */
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

/** A fake CloudWatch client: records each command's input; `fail(n, error)` makes call n (1-based) reject. */
export function fakeCloudWatchClient() {
  const inputs: import('../../lib/metrics/sinks/cloudwatch').PutMetricDataInput[] = [];
  const failing = new Map<number, unknown>();
  let calls = 0;
  return {
    inputs,
    fail(call: number, error: unknown) {
      failing.set(call, error);
    },
    send(command: import('../../lib/metrics/sinks/cloudwatch').PutMetricDataCommandLike): Promise<unknown> {
      calls++;
      const error = failing.get(calls);
      if (error !== undefined) return Promise.reject(error);
      inputs.push(command.input);
      return Promise.resolve({});
    },
  };
}

/** An SDK-style error: an Error whose name is the AWS error code. */
export function awsError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** A call one fake instrument received. */
export interface InstrumentCall {
  instrument: string;
  method: string;
  value: number;
  attributes?: Readonly<Record<string, string | undefined>>;
}

/** A gauge callback as the fake meter runs it. */
type GaugeCallback = (r: { observe(v: number, a?: Readonly<Record<string, string>>): void }) => void;

/** A fake OpenTelemetry meter: records instrument creation and every call. */
export function fakeMeter() {
  const created: { kind: string; name: string; unit?: string }[] = [];
  const calls: InstrumentCall[] = [];
  const callbacks = new Map<string, GaugeCallback[]>();
  const meter = {
    createCounter(name: string, options?: { unit?: string }) {
      created.push({ kind: 'counter', name, unit: options?.unit });
      return { add: (value: number, attributes?: Readonly<Record<string, string>>) => void calls.push({ instrument: name, method: 'add', value, attributes }) };
    },
    createHistogram(name: string, options?: { unit?: string }) {
      created.push({ kind: 'histogram', name, unit: options?.unit });
      return { record: (value: number, attributes?: Readonly<Record<string, string>>) => void calls.push({ instrument: name, method: 'record', value, attributes }) };
    },
    createObservableGauge(name: string, options?: { unit?: string }) {
      created.push({ kind: 'gauge', name, unit: options?.unit });
      const list: GaugeCallback[] = [];
      callbacks.set(name, list);
      return {
        addCallback: (cb: GaugeCallback) => void list.push(cb),
        removeCallback: (cb: GaugeCallback) => {
          const i = list.indexOf(cb);
          if (i >= 0) list.splice(i, 1);
        },
      };
    },
  };
  /** Runs the gauge callbacks of one instrument as an OpenTelemetry collection would. */
  const collect = (name: string) => {
    const observed: { value: number; attributes?: Readonly<Record<string, string>> }[] = [];
    for (const cb of callbacks.get(name) ?? []) cb({ observe: (value, attributes) => void observed.push({ value, attributes }) });
    return observed;
  };
  return { meter, created, calls, collect };
}

/** A fake prom-client module: records constructor configs and every call. */
export function fakePromClient() {
  const configs: { kind: string; name: string; help: string; labelNames: string[]; buckets?: number[] }[] = [];
  const calls: InstrumentCall[] = [];
  function make(kind: string, method: string) {
    return class {
      constructor(readonly config: { name: string; help: string; labelNames: string[]; buckets?: number[] }) {
        configs.push({ kind, ...config });
      }
      record(labels: Readonly<Record<string, string | undefined>>, value = 1) {
        calls.push({ instrument: this.config.name, method, value, attributes: labels });
      }
    };
  }
  const Counter = make('counter', 'inc');
  const Histogram = make('histogram', 'observe');
  const Gauge = make('gauge', 'set');
  const client = {
    Counter: class extends Counter {
      inc(labels: Readonly<Record<string, string | undefined>>, value?: number) {
        this.record(labels, value);
      }
    },
    Histogram: class extends Histogram {
      observe(labels: Readonly<Record<string, string | undefined>>, value: number) {
        this.record(labels, value);
      }
    },
    Gauge: class extends Gauge {
      set(labels: Readonly<Record<string, string | undefined>>, value: number) {
        this.record(labels, value);
      }
    },
  };
  return { client, configs, calls };
}

/** A fake hot-shots client: records every call. */
export function fakeStatsD() {
  const calls: InstrumentCall[] = [];
  const make = (method: string) => (stat: string, value: number, tags?: Readonly<Record<string, string>>) =>
    void calls.push({ instrument: stat, method, value, attributes: tags });
  let closed = 0;
  return {
    calls,
    get closed() {
      return closed;
    },
    client: {
      increment: make('increment'),
      histogram: make('histogram'),
      gauge: make('gauge'),
      timing: make('timing'),
      distribution: make('distribution'),
      close: (cb?: (e?: Error) => void) => {
        closed++;
        cb?.();
      },
    },
  };
}

/**
 * Runs `fn` while `require(packageName)` fails as for a package that is not installed (the real
 * sink packages are devDependencies, so "not installed" has to be simulated).
 */
export function withMissingPeer<T>(packageName: string, fn: () => T): T {
  jest.doMock(packageName, () => {
    const error = new Error(`Cannot find module '${packageName}' from 'lib/metrics/sinks/optional-peer.ts'`) as Error & { code: string };
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  });
  try {
    return fn();
  } finally {
    jest.dontMock(packageName);
  }
}
