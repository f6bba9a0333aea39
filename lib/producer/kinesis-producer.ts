/**
 * kinesisProducer: the whole KPL as one RxJS operator (kpl.md, "Data path for each stream"): user
 * records in, exactly one `RecordResult` per record out.
 *
 * Departures from the KPL, each on purpose (kpl.md §12–13):
 * - Memory is bounded: at most `maxOutstandingRecords` records and `maxOutstandingBytes` bytes are
 *   held per subscription (each subscription is a producer of its own). What happens to a record beyond that is the explicit `overflow` policy (below) — never a
 *   silent drop, never unbounded growth by default (the KPL's #21).
 * - Completion means done: the result completes only when the source has completed and every
 *   record has its one terminal result (the KPL's flushSync polled, #190).
 * - One pipeline per stream, created lazily; a missing stream fails its own records fast and never
 *   blocks another stream (aiokpl B3).
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  asyncScheduler,
  merge,
  Observable,
  type OperatorFunction,
  type SchedulerLike,
  Subject,
  type SchedulerAction,
  type Subscriber,
  type Subscription,
} from 'rxjs';
import { createMetricsRecorder, type MetricReading, type MetricsRecorder } from '../metrics/metrics-recorder';
import { checkObservable, checkOptionsObject, CONFIG_FIELDS, type ProducerConfig, resolveConfig, resolveScheduler, ValidationError } from '../config';
import { recordBytes } from './record-bytes';
import { rejectedResult } from '../operators/internal/attempts';
import type { RecordResult, UserRecord } from '../records';
import { startStreamPipeline, type StreamPipeline } from './stream-pipeline';

/** What to do with a record that arrives while the producer already holds its maximum. */
export type OverflowPolicy = 'fail' | 'buffer';

/** Options of {@link kinesisProducer}: every {@link ProducerConfig} field, plus the following. */
export interface KinesisProducerOptions extends Partial<ProducerConfig> {
  /** A v3 `KinesisClient` (see `createKinesisClient`); only `send` is called. */
  readonly client: Pick<KinesisClient, 'send'>;
  /** The default stream; a record's own `streamName` wins. */
  readonly streamName?: string;
  /** Where time comes from; tests pass their `TestScheduler`. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Each emission sends what is buffered now, without waiting for deadlines (rate limits still hold). */
  readonly flush$?: Observable<unknown>;
  /**
   * Beyond `maxOutstandingRecords` / `maxOutstandingBytes`:
   * - `'fail'` (default): the record resolves at once as a failed result with errorCode `Backpressure`
   *   (memory stays bounded whatever the source does; pace the source with `outstanding$`);
   * - `'buffer'`: the record waits, in order, until there is room (memory grows with the source: use it
   *   for finite sources such as `from(array)` whose records are in memory anyway).
   */
  readonly overflow?: OverflowPolicy;
  /** ShardMap timings (tests shorten them). Defaults: refresh every 60 s, closed shards kept 60 s. */
  readonly shardMap?: { readonly refreshIntervalMs?: number; readonly closedShardTtlMs?: number };
  /** Source of randomness for backoff jitter (tests make it deterministic). Default `Math.random`. */
  readonly random?: () => number;
}

/** Records and bytes accepted by a producer and not yet terminal. */
export interface OutstandingCount {
  readonly records: number;
  readonly bytes: number;
}

/** The operator returned by {@link kinesisProducer}, with its outstanding count as an Observable. */
export type KinesisProducerOperator = OperatorFunction<UserRecord, RecordResult> & {
  /** Records/bytes held across every subscription of this operator (each is bounded on its own); emits on each change. */
  readonly outstanding$: Observable<OutstandingCount>;
  /**
   * The KPL metrics (kpl.md §9) recorded while `metricsLevel` is not `'none'`: every series, or those
   * of one name; cumulative since start, or over the last `windowSeconds` (1 … 60).
   * @throws ValidationError for a name that is not a KPL metric name, or a window outside 1 … 60.
   */
  getMetrics(name?: string, windowSeconds?: number): MetricReading[];
  /** The recorder behind `getMetrics`, for metric sinks (`startMetricsUploader`). */
  readonly metrics: MetricsRecorder;
};

/** How often `UserRecordsPending` is sampled, as the KPL does (kpl.md §9). */
export const PENDING_SAMPLE_MS = 200;

/** Error code of a record refused because the producer held its maximum (`overflow: 'fail'`). */
export const BACKPRESSURE = 'Backpressure';


/** What {@link KinesisProducerOptions} holds besides the {@link ProducerConfig} fields (the type keeps it complete). */
export const OPERATOR_OPTIONS: readonly string[] = Object.keys({
  client: true,
  streamName: true,
  scheduler: true,
  flush$: true,
  overflow: true,
  shardMap: true,
  random: true,
} satisfies { readonly [K in Exclude<keyof KinesisProducerOptions, keyof ProducerConfig>]-?: true });

/**
 * A name that is no option is a typo (`recordMaxBufferTimeMs`), and ignoring it would silently run
 * with the default; createKinesisClient refuses unknown names too. `names` are the options of
 * `of` besides the ProducerConfig fields (kinesisProducer's, the class's, the Writable's).
 * @throws ValidationError naming the first unknown option and listing the known ones.
 */
export function checkOptionNames(options: object, names: readonly string[], of: string): void {
  for (const name of Object.keys(options)) {
    if (!names.includes(name) && !(CONFIG_FIELDS as readonly string[]).includes(name)) {
      const value = (options as Record<string, unknown>)[name];
      throw new ValidationError(name, value, `an option of ${of}: ${[...names, ...CONFIG_FIELDS].join(', ')}`);
    }
  }
}

/**
 * Checks the options that are not ProducerConfig fields; returns the resolved config.
 * `clientMadeLater`: a client left out is fine (the KinesisProducer class makes one once all is checked).
 */
export function resolveProducerOptions(options: KinesisProducerOptions, clientMadeLater = false): ProducerConfig {
  checkOptionsObject(options);
  const config = resolveConfig(options);
  const client = options.client as unknown;
  // Left out for the class, which makes one after every check: a bad option leaves no client behind.
  const leftOut = clientMadeLater && client === undefined;
  if (!leftOut && (typeof client !== 'object' || client === null || typeof (client as { send?: unknown }).send !== 'function')) {
    throw new ValidationError('client', client, 'a KinesisClient (an object with a send method)');
  }
  if (options.streamName !== undefined && (typeof options.streamName !== 'string' || options.streamName.trim() === '')) {
    throw new ValidationError('streamName', options.streamName, 'a non-empty string');
  }
  if (options.overflow !== undefined && options.overflow !== 'fail' && options.overflow !== 'buffer') {
    throw new ValidationError('overflow', options.overflow, "'fail' | 'buffer'");
  }
  // Used only once a stream's pipeline starts (the first record): checked now, as the config is.
  resolveScheduler(options.scheduler);
  checkObservable('flush$', options.flush$);
  return config;
}


/**
 * Writes user records to Kinesis the way the KPL does — shard prediction, aggregation, per-shard
 * rate limiting, PutRecords batching, retries — and emits one {@link RecordResult} per record.
 *
 * ```text
 * source:  -a-b-c----------|
 * result:  ---------------(xyz|)      x, y, z = the results of a, b, c (success or final failure),
 *                                     after recordMaxBufferedTimeMs and the PutRecords round trip
 * ```
 *
 * - Completion: what is buffered is sent at once; the result completes after the last record's result.
 * - Error: the source's error passes through; records still in flight get no result.
 * - Unsubscribe: timers, shard maps and in-flight requests are released; pending records are dropped.
 *
 * @example records$.pipe(kinesisProducer({ client: createKinesisClient(), streamName: 'events' }))
 *
 * @param options - the client, the default stream, and any {@link ProducerConfig} field.
 * @returns the operator, with `outstanding$` to pace a cooperative source.
 * @throws ValidationError at once for a bad option (naming the field, value and allowed range).
 */
export function kinesisProducer(options: KinesisProducerOptions): KinesisProducerOperator {
  checkOptionsObject(options);
  checkOptionNames(options, OPERATOR_OPTIONS, 'kinesisProducer');
  const producer = createProducer(options);
  const operator = (source: Observable<UserRecord>): Observable<RecordResult> =>
    new Observable<RecordResult>((subscriber) => {
      const open = producer.open<undefined>({
        result: (result) => subscriber.next(result),
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      const sourceSubscription = source.subscribe({
        next: (record: UserRecord) => open.put(record, recordBytes(record), undefined),
        error: (err: unknown) => {
          open.close();
          subscriber.error(err);
        },
        complete: () => open.complete(),
      });
      return () => {
        sourceSubscription.unsubscribe();
        open.close();
      };
    });
  return Object.assign(operator, { outstanding$: producer.outstanding$, metrics: producer.metrics, getMetrics: producer.getMetrics });
}

/**
 * Where an open producer's results go: each with the token its record was put with.
 * @internal
 */
export interface ProducerSink<T> {
  result(result: RecordResult, token: T): void;
  /** A bug inside the pipeline (Kinesis failures are results): nothing more comes. */
  error(err: unknown): void;
  /** After `complete()`, once every record has its result. */
  complete(): void;
}

/**
 * One subscription of {@link kinesisProducer} without the Observable around it: what the operator
 * and the `KinesisProducer` class share. The class puts each record with its own per-put entry as
 * the token and gets it back with the result (carried on the record's carrier through the whole
 * pipeline), so it needs no map from records to puts.
 * @internal
 */
export interface OpenProducer<T> {
  /** One record from the source; `bytes` is its `recordBytes` (measured once by the caller). */
  put(record: UserRecord, bytes: number, token: T): void;
  /** The source is done: what is buffered is sent at once; the sink completes after the last result. */
  complete(): void;
  /** Unsubscribe: timers, shard maps and in-flight requests are released; pending records get nothing. */
  close(): void;
}

/**
 * What {@link kinesisProducer} builds once per call: checked options, the metrics and the
 * outstanding count shared by every subscription, and `open` for each subscription.
 * @internal
 */
export interface Producer {
  open<T>(sink: ProducerSink<T>): OpenProducer<T>;
  readonly outstanding$: Observable<OutstandingCount>;
  readonly metrics: MetricsRecorder;
  getMetrics(name?: string, windowSeconds?: number): MetricReading[];
}

/**
 * {@link kinesisProducer} as an internal {@link Producer}; throws as kinesisProducer does for a bad option.
 * @internal
 */
export function createProducer(options: KinesisProducerOptions): Producer {
  const config = resolveProducerOptions(options);
  const scheduler = options.scheduler ?? asyncScheduler;
  const overflow = options.overflow ?? 'fail';
  const metrics = createMetricsRecorder({
    level: config.metricsLevel,
    granularity: config.metricsGranularity,
    now: () => scheduler.now(),
  });
  const samplePending = metrics.wants('UserRecordsPending');
  const total = { records: 0, bytes: 0 };
  // Published only while someone listens: a count object per record would otherwise feed the GC.
  const listeners = new Set<Subscriber<OutstandingCount>>();
  const publish = (): void => {
    if (listeners.size === 0) return;
    const count: OutstandingCount = { records: total.records, bytes: total.bytes };
    for (const listener of listeners) listener.next(count);
  };
  const outstanding$ = new Observable<OutstandingCount>((listener) => {
    listeners.add(listener);
    listener.next({ records: total.records, bytes: total.bytes });
    return () => listeners.delete(listener);
  });

  const open = <T>(sink: ProducerSink<T>): OpenProducer<T> => {
    const pipelines = new Map<string, StreamPipeline>();
    // Most records go to one stream: the last pipeline used is kept at hand (no Map lookup).
    let lastStream: string | undefined;
    let lastPipeline: StreamPipeline | undefined;
    const internalFlush$ = new Subject<void>();
    const flush$ = options.flush$ ? merge(options.flush$, internalFlush$) : internalFlush$;
    const waiting: UserRecord[] = [];
    // recordBytes of each waiting record, measured once when it arrived (it reads the user's record).
    const waitingBytes: number[] = [];
    const waitingTokens: T[] = [];
    let waitingHead = 0;
    let records = 0;
    let bytes = 0;
    let sourceDone = false;
    let finished = false;
    let admitting = false;
    const pendingByStream = new Map<string, number>();
    const sampler: Subscription | undefined = samplePending
      ? scheduler.schedule(function (this: SchedulerAction<unknown>) {
          for (const [stream, n] of pendingByStream) metrics.put('UserRecordsPending', n, stream);
          this.schedule(undefined, PENDING_SAMPLE_MS);
        }, PENDING_SAMPLE_MS)
      : undefined;

    const release = (): void => {
      sampler?.unsubscribe();
      for (const pipeline of pipelines.values()) pipeline.close();
      pipelines.clear();
      lastPipeline = undefined;
      internalFlush$.complete();
      total.records -= records;
      total.bytes -= bytes;
      records = 0;
      bytes = 0;
      publish();
      waiting.length = 0;
      waitingBytes.length = 0;
      waitingTokens.length = 0;
      waitingHead = 0;
    };

    const maybeComplete = (): void => {
      if (finished || !sourceDone || records > 0 || waitingHead < waiting.length) return;
      finished = true;
      release();
      sink.complete();
    };

    // `b` is what recordBytes counted at admission; the pipeline knows it from the record's carrier.
    const onResult = (result: RecordResult, b: number, token: unknown): void => {
      if (finished) return;
      records--;
      bytes -= b;
      total.records--;
      total.bytes -= b;
      publish();
      if (samplePending) {
        const stream = result.record.streamName ?? options.streamName ?? '';
        pendingByStream.set(stream, (pendingByStream.get(stream) ?? 1) - 1);
      }
      sink.result(result, token as T);
      admitWaiting();
      maybeComplete();
    };

    const onError = (err: unknown): void => {
      if (finished) return;
      finished = true;
      release();
      sink.error(err);
    };

    const pipelineFor = (streamName: string): StreamPipeline => {
      if (streamName === lastStream && lastPipeline !== undefined) return lastPipeline;
      let pipeline = pipelines.get(streamName);
      if (pipeline === undefined) {
        pipeline = startStreamPipeline({
          client: options.client,
          streamName,
          config,
          scheduler,
          flush$,
          onResult,
          onError,
          metrics,
          ...(options.shardMap ? { shardMap: options.shardMap } : {}),
          ...(options.random ? { random: options.random } : {}),
        });
        pipelines.set(streamName, pipeline);
      }
      lastStream = streamName;
      lastPipeline = pipeline;
      return pipeline;
    };

    const hasRoom = (b: number): boolean =>
      records < config.maxOutstandingRecords && (records === 0 || bytes + b <= config.maxOutstandingBytes);

    const admit = (record: UserRecord, b: number, token: T): void => {
      let streamName: unknown;
      try {
        streamName = (record as Partial<UserRecord> | null)?.streamName ?? options.streamName;
      } catch (err) {
        const message = `record could not be read: ${err instanceof Error ? err.message : String(err)}`;
        sink.result(rejectedResult(record, 'ValidationError', message, scheduler.now()), token);
        return;
      }
      // options.streamName was checked once by resolveProducerOptions.
      if (typeof streamName !== 'string' || (streamName !== options.streamName && streamName.trim() === '')) {
        const err = new ValidationError('streamName', streamName, "a non-empty string (the record's or the producer's)");
        sink.result(rejectedResult(record, 'ValidationError', err.message, scheduler.now()), token);
        return;
      }
      records++;
      bytes += b;
      total.records++;
      total.bytes += b;
      publish();
      if (samplePending) pendingByStream.set(streamName, (pendingByStream.get(streamName) ?? 0) + 1);
      pipelineFor(streamName).put(record, token);
    };

    function admitWaiting(): void {
      // Nothing waits, or a result delivered while admitting: the loop below goes on.
      if (waitingHead === waiting.length || admitting) return;
      admitting = true;
      try {
        while (waitingHead < waiting.length && !finished) {
          const b = waitingBytes[waitingHead];
          if (!hasRoom(b)) break;
          const next = waiting[waitingHead];
          const token = waitingTokens[waitingHead];
          waiting[waitingHead] = undefined as unknown as UserRecord; // drop the references
          waitingTokens[waitingHead++] = undefined as T;
          admit(next, b, token);
        }
        if (waitingHead === waiting.length) {
          waiting.length = 0;
          waitingBytes.length = 0;
          waitingTokens.length = 0;
          waitingHead = 0;
        }
      } finally {
        admitting = false;
      }
    }

    return {
      put: (record, b, token) => {
        if (finished) return;
        try {
          if (waitingHead === waiting.length && hasRoom(b)) {
            admit(record, b, token);
          } else if (overflow === 'buffer') {
            waiting.push(record);
            waitingBytes.push(b);
            waitingTokens.push(token);
          } else {
            sink.result(
              rejectedResult(
                record,
                BACKPRESSURE,
                `the producer holds ${records} records / ${bytes} bytes (maxOutstandingRecords ${config.maxOutstandingRecords}, ` +
                  `maxOutstandingBytes ${config.maxOutstandingBytes}); pace the source with outstanding$ or use overflow: 'buffer'`,
                scheduler.now(),
              ),
              token,
            );
          }
        } catch (err) {
          onError(err); // a throw inside must not vanish (STYLE.md §1)
        }
      },
      complete: () => {
        if (finished) return;
        try {
          sourceDone = true;
          internalFlush$.next(); // completion sends what is buffered at once
          maybeComplete();
        } catch (err) {
          onError(err);
        }
      },
      close: () => {
        if (finished) return;
        finished = true;
        release();
      },
    };
  };

  return { open, outstanding$, metrics, getMetrics: (name, windowSeconds) => metrics.query(name, windowSeconds) };
}
