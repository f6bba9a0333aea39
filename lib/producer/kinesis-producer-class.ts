/**
 * KinesisProducer: the Promise facade over {@link kinesisProducer} for code that does not use RxJS
 * (the KPL's `KinesisProducer.addUserRecord` / `flush` / `flushSync` / `destroy`, kpl.md §10;
 * aiokpl's SyncProducer role).
 *
 * Departures from the KPL, each answering a complaint in kpl.md §12:
 * - `put` waits for room instead of growing memory (#21, #48): at most `maxOutstandingRecords` /
 *   `maxOutstandingBytes` are held; the rest wait, in order, outside the pipeline.
 * - `flush()` resolves when every record put before it is terminal — no 500 ms polling (#190).
 * - `close()` leaves nothing pending and releases timers and sockets (aiokpl B4).
 * - A failed result says why (`errorCode`, `errorMessage`; #54).
 */
import { asyncScheduler, Observable, Subject } from 'rxjs';
import { checkMs, checkOptionsObject, type ProducerConfig, ValidationError } from '../config';
import { rejectedResult } from '../operators/internal/attempts';
import { validateRecord } from '../operators/internal/prepare-record';
import type { RecordResult, UserRecord } from '../records';
import { createKinesisClient } from './create-kinesis-client';
import {
  checkOptionNames,
  createProducer,
  type KinesisProducerOptions,
  type OpenProducer,
  type Producer,
  resolveProducerOptions,
} from './kinesis-producer';
import type { MetricReading } from '../metrics/metrics-recorder';
import type { MetricsSink } from '../metrics/metrics-sink';
import { METRICS_UPLOAD_DELAY_MS, startMetricsUploader, type MetricsUploader } from '../metrics/metrics-uploader';
import { recordBytes } from './record-bytes';

/** Options of {@link KinesisProducer}: those of {@link kinesisProducer}; `client` may be left out. */
export type KinesisProducerClassOptions = Omit<KinesisProducerOptions, 'client' | 'overflow' | 'flush$'> & {
  /** A v3 KinesisClient. Left out, one is made with `createKinesisClient()` and destroyed by `close()`. */
  readonly client?: KinesisProducerOptions['client'];
  /**
   * Where metrics go (e.g. `cloudWatchSink(...)`, `openTelemetrySink(...)`; `fanOutSink([...])` for
   * several): deltas every `metricsUploadDelayMs`, a last one on `close()`. Needs `metricsLevel`.
   */
  readonly metricsSink?: MetricsSink;
  /** Time between metric exports in ms. Default 60000 (the KPL's MetricsUploadDelay). */
  readonly metricsUploadDelayMs?: number;
};

/** What {@link KinesisProducerClassOptions} holds besides the ProducerConfig fields (the type keeps it complete). */
export const CLASS_OPTIONS: readonly string[] = Object.keys({
  client: true,
  streamName: true,
  scheduler: true,
  shardMap: true,
  random: true,
  metricsSink: true,
  metricsUploadDelayMs: true,
} satisfies { readonly [K in Exclude<keyof KinesisProducerClassOptions, keyof ProducerConfig>]-?: true });

/** Thrown (as a rejection) by `put` once `close()` has been called. */
export class ProducerClosedError extends Error {
  override readonly name = 'ProducerClosedError';
  constructor() {
    super('the KinesisProducer is closed: put() is refused after close()');
  }
}

/**
 * One put. Admitted, it is the token its record carries through the pipeline (`BufferedRecord.token`)
 * and comes back with the record's result: a put finds its result without a lookup by record, and
 * puts of the very same record object each get their own.
 */
interface Entry {
  readonly record: UserRecord;
  readonly bytes: number;
  readonly seq: number;
  /**
   * Gets the result, once: `put`'s Promise resolve (which ignores the entry), or a handler shared by
   * every entry of one submitter (the Writable), which finds what it needs in `context`.
   */
  readonly settle: (result: RecordResult, entry: Entry) => void;
  /** Called once the record is inside the pipeline (the producer had room), then cleared. */
  onAdmitted: ((entry: Entry) => void) | undefined;
  /** The submitter's own state for this put (the Writable's write callback); the class never reads it. */
  context: unknown;
  /** Where it is in `admitted` while admitted without a result; -1 otherwise. */
  slot: number;
}

/**
 * How a submitter without Promises (the Writable) hears of its puts, shared by all of them:
 * `onAdmitted(entry)` once a record is inside the pipeline, `settle(result, entry)` with its
 * result; `entry.context` is what the submitter gave with that put.
 * @internal
 */
export interface SubmitHandler {
  readonly onAdmitted: (entry: { context: unknown }) => void;
  readonly settle: (result: RecordResult, entry: { context: unknown }) => void;
}

interface Barrier {
  readonly seq: number;
  remaining: number;
  readonly resolve: () => void;
}

/**
 * A Kinesis producer with Promises: `put` resolves with each record's result, `flush` and `close`
 * resolve when what came before them is done.
 *
 * - `put(record)` resolves with the {@link RecordResult} (success or final failure); it rejects only
 *   with {@link ValidationError} (a bad record) or {@link ProducerClosedError}.
 * - While the producer holds its maximum, `put` waits for room (back-pressure).
 *
 * @example
 * const producer = new KinesisProducer({ client, streamName: 'events' });
 * const result = await producer.put({ partitionKey: 'user-1', data: 'hello' });
 * await producer.close();
 */
export class KinesisProducer {
  /** Every RecordResult, as it happens. */
  readonly results$: Observable<RecordResult>;

  private readonly config: ProducerConfig;
  private readonly options: KinesisProducerClassOptions;
  private readonly ownsClient: boolean;
  private readonly client: KinesisProducerOptions['client'];
  private readonly flush$ = new Subject<void>();
  private readonly resultsSubject = new Subject<RecordResult>();
  /** The producer's pipelines, fed directly with each put's entry as the token (not through the operator). */
  private readonly producer: Producer;
  private readonly open: OpenProducer<Entry>;
  private readonly uploader: MetricsUploader | undefined;
  /**
   * Admitted puts without a result, in no order (only a pipeline bug walks it, to fail them): not a
   * map by record (a lookup per result cost more than the rest of the class). A result removes its
   * entry by moving the last one into its slot: that one was admitted last, so it is still in cache
   * (a linked list's neighbours, removed out of order by aggregation, were not).
   */
  private readonly admitted: Entry[] = [];
  private waiting: Entry[] = [];
  private waitingHead = 0;
  private barriers: Barrier[] = [];
  private seq = 0;
  private heldRecords = 0;
  private heldBytes = 0;
  private closing: Promise<void> | undefined;
  private done!: Promise<void>;
  private readonly validateOptions: { readonly defaultStreamName: string | undefined; readonly maxUserRecordSize: number };

  constructor(options: KinesisProducerClassOptions) {
    checkOptionsObject(options);
    // `overflow` and `flush$` are the class's own business (put waits for room; flush()): refused as unknown.
    checkOptionNames(options, CLASS_OPTIONS, 'KinesisProducer');
    // Checked even without a sink: a bad value is a mistake whether or not metrics go anywhere yet.
    const uploadDelayMs = checkMs('metricsUploadDelayMs', options.metricsUploadDelayMs, 1, METRICS_UPLOAD_DELAY_MS);
    this.config = resolveProducerOptions(options as KinesisProducerOptions, true);
    // Only a client left out is made here, after every check (and destroyed by close()); null was refused above.
    this.ownsClient = options.client === undefined;
    const client = options.client === undefined ? createKinesisClient() : options.client;
    this.options = options;
    this.validateOptions = { defaultStreamName: options.streamName, maxUserRecordSize: this.config.maxUserRecordSize };
    this.client = client;
    this.results$ = this.resultsSubject.asObservable();
    const producer = (this.producer = createProducer({
      ...options,
      client,
      flush$: this.flush$,
      overflow: 'buffer',
      // The class holds the limits itself (outside the pipeline), so the producer never overflows.
      maxOutstandingRecords: Number.MAX_SAFE_INTEGER,
      maxOutstandingBytes: Number.MAX_SAFE_INTEGER,
    }));
    this.done = new Promise<void>((resolve) => {
      this.subscriptionDone = resolve;
    });
    this.uploader =
      options.metricsSink === undefined
        ? undefined
        : startMetricsUploader({
            recorder: producer.metrics,
            sink: options.metricsSink,
            uploadDelayMs,
            ...(options.scheduler !== undefined ? { scheduler: options.scheduler } : {}),
          });
    this.open = producer.open<Entry>({
      result: (result, entry) => this.onResult(result, entry),
      error: (err: unknown) => this.onFatal(err),
      complete: () => this.subscriptionDone(),
    });
  }

  private subscriptionDone: () => void = () => undefined;

  /**
   * The KPL metrics (kpl.md §9) recorded while `metricsLevel` is not `'none'`, as
   * `{ name, dimensions, count, sum, min, max, mean }[]`: every series or those of `name`;
   * cumulative since start, or over the last `windowSeconds` (1 … 60).
   *
   * @example producer.getMetrics('UserRecordsPut', 10) // success rate: sum / count
   * @throws ValidationError for a name that is not a KPL metric name, or a window outside 1 … 60.
   */
  getMetrics(name?: string, windowSeconds?: number): MetricReading[] {
    return this.producer.getMetrics(name, windowSeconds);
  }

  /** Records accepted and not yet terminal (puts still waiting for room are not counted). */
  get outstandingRecords(): number {
    return this.heldRecords;
  }

  /**
   * Puts one record. Resolves with its result once terminal; waits first while the producer is full.
   *
   * @throws (rejects) ValidationError for a bad record; ProducerClosedError after `close()`.
   */
  put(record: UserRecord): Promise<RecordResult> {
    return new Promise<RecordResult>((resolve) => this.enqueue(record, resolve, undefined, undefined));
  }

  /**
   * `put` without a Promise, for a submitter that holds many puts (the Writable): no Promise,
   * resolver or reaction per record while it is outstanding, only the entry. The record is checked
   * here, synchronously. Internal: not part of the documented API.
   * @throws ValidationError for a bad record; ProducerClosedError after `close()`.
   * @internal
   */
  submit(record: UserRecord, handler: SubmitHandler, context: unknown): void {
    this.enqueue(record, handler.settle, handler.onAdmitted, context);
  }

  private enqueue(
    record: UserRecord,
    settle: Entry['settle'],
    onAdmitted: Entry['onAdmitted'],
    context: unknown,
  ): void {
    if (this.closing !== undefined) throw new ProducerClosedError();
    try {
      validateRecord(record, this.validateOptions);
    } catch (err) {
      if (err instanceof ValidationError) throw err;
      // A hostile record (a getter that throws) is still the caller's mistake: say so as a ValidationError.
      const reason = err instanceof Error ? err.message : String(err);
      throw new ValidationError('record', record, `an object whose fields can be read (reading it threw: ${reason})`);
    }
    const entry: Entry = { record, bytes: recordBytes(record), seq: ++this.seq, settle, onAdmitted, context, slot: -1 };
    if (this.waitingHead === this.waiting.length && this.hasRoom(entry.bytes)) this.admit(entry);
    else this.waiting.push(entry);
  }

  /**
   * Sends what is buffered now, without waiting for deadlines (rate limits still hold), and
   * resolves when every record put before this call has a terminal result.
   */
  flush(): Promise<void> {
    const pending = this.heldRecords + (this.waiting.length - this.waitingHead);
    const promise =
      pending === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => this.barriers.push({ seq: this.seq, remaining: pending, resolve }));
    this.flush$.next();
    return promise;
  }

  /**
   * Stops intake, flushes, waits until every record put so far is terminal and in-flight requests
   * are over, then releases timers, shard maps and (if the producer made it) the client. Idempotent.
   */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closing = (async () => {
        await this.flush();
        this.open.complete();
        await this.done;
        this.open.close();
        this.flush$.complete();
        this.resultsSubject.complete();
        await this.uploader?.stop();
        if (this.ownsClient) (this.client as { destroy?: () => void }).destroy?.();
      })();
    }
    return this.closing;
  }

  private hasRoom(bytes: number): boolean {
    return (
      this.heldRecords < this.config.maxOutstandingRecords &&
      (this.heldRecords === 0 || this.heldBytes + bytes <= this.config.maxOutstandingBytes)
    );
  }

  private admit(entry: Entry): void {
    entry.slot = this.admitted.length;
    this.admitted.push(entry);
    this.heldRecords++;
    this.heldBytes += entry.bytes;
    const onAdmitted = entry.onAdmitted;
    entry.onAdmitted = undefined;
    this.open.put(entry.record, entry.bytes, entry);
    onAdmitted?.(entry);
  }

  private admitWaiting(): void {
    // Called on every result: nothing waits most of the time (not even an empty array to reset).
    if (this.waiting.length === 0) return;
    let admitted = false;
    while (this.waitingHead < this.waiting.length) {
      const entry = this.waiting[this.waitingHead];
      if (!this.hasRoom(entry.bytes)) break;
      this.waiting[this.waitingHead++] = undefined as unknown as Entry;
      this.admit(entry);
      admitted = true;
    }
    if (this.waitingHead === this.waiting.length) {
      this.waiting = [];
      this.waitingHead = 0;
    }
    // Records put before a pending flush() must not wait for their deadlines either.
    if (admitted && this.barriers.length > 0) this.flush$.next();
  }

  private onResult(result: RecordResult, entry: Entry): void {
    const admitted = this.admitted;
    const last = admitted.pop() as Entry;
    if (last !== entry) {
      admitted[entry.slot] = last;
      last.slot = entry.slot;
    }
    entry.slot = -1;
    this.heldRecords--;
    this.heldBytes -= entry.bytes;
    if (this.resultsSubject.observed) this.resultsSubject.next(result);
    entry.settle(result, entry);
    if (this.barriers.length > 0) {
      for (const barrier of this.barriers) {
        if (entry.seq <= barrier.seq && --barrier.remaining === 0) barrier.resolve();
      }
      this.barriers = this.barriers.filter((b) => b.remaining > 0);
    }
    this.admitWaiting();
  }

  private onFatal(err: unknown): void {
    // Only a bug inside the pipeline gets here: fail what is pending rather than hang it.
    const message = err instanceof Error ? err.message : String(err);
    const now = (this.options.scheduler ?? asyncScheduler).now();
    for (const e of this.admitted) e.settle(rejectedResult(e.record, 'InternalError', message, now), e);
    this.admitted.length = 0;
    this.heldRecords = 0;
    this.heldBytes = 0;
    for (let i = this.waitingHead; i < this.waiting.length; i++) {
      const e = this.waiting[i];
      e.settle(rejectedResult(e.record, 'InternalError', message, now), e);
    }
    this.waiting.length = 0;
    this.waitingHead = 0;
    for (const barrier of this.barriers) barrier.resolve();
    this.barriers = [];
    this.subscriptionDone();
  }
}
