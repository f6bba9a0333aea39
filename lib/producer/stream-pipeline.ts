/**
 * One stream's pipeline: the KPL's `Pipeline` (kpl.md, "Data path for each stream", `pipeline.h`),
 * built from the public operators and closed into a loop:
 *
 * ```text
 * users ─► shardPredict ─┬─► aggregateByShard ─► rateLimitPerShard ─┬─► collectBatches ─► putRecords ─┐
 *                        │                                         └─ expired ───────────────────────┤
 *                        └─ invalid / stream failed ─► result                            retryClassify ◄┘
 *                                                                    result ◄─┤
 *         retries ─► predictAgain ─► (back in before aggregateByShard) ◄─ retry ┘
 * ```
 *
 * Departures from the KPL: a retried record is predicted again before it re-enters (so a refreshed
 * map routes it right, kpl.md §8 "How retries behave"); throttling is fed back to the limiter; the
 * limiter's expiry path reaches the retrier as data (`SendOutcome` kind `expired`).
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  connect,
  filter,
  merge,
  Observable,
  type OperatorFunction,
  type SchedulerLike,
  Subject,
  type Subscription,
  type Subscriber,
  take,
  tap,
  timer,
  identity,
  type MonoTypeOperatorFunction,
} from 'rxjs';
import type { MetricsRecorder } from '../metrics/metrics-recorder';
import { recordBytes } from './record-bytes';
import { recordOutcomeMetrics, recordResultMetrics } from './pipeline-metrics';
import type { ProducerConfig } from '../config';
import { aggregateByShard } from '../operators/aggregate-by-shard';
import { collectBatches } from '../operators/collect-batches';
import { putRecords } from '../operators/put-records';
import { rateLimitPerShard, type ThrottleSignal } from '../operators/rate-limit-per-shard';
import { retrierOf } from '../operators/retry-classify';
import { predictAgain, shardPredict } from '../operators/shard-predict';
import {
  type BufferedRecord,
  type KinesisRecord,
  type RecordResult,
  type SendOutcome,
  type UserRecord,
  isRecordResult,
} from '../records';
import { ShardMap } from '../shards/shard-map';

/** What a pipeline needs from the producer that owns it. */
export interface StreamPipelineOptions {
  readonly client: Pick<KinesisClient, 'send'>;
  readonly streamName: string;
  readonly config: ProducerConfig;
  readonly scheduler: SchedulerLike;
  /** Each emission sends what is buffered now (rate limits still hold). */
  readonly flush$: Observable<unknown>;
  /**
   * Every terminal result of this stream, exactly once per record, with the record's payload size
   * (what `recordBytes` counted when it was put, known here without reading the user's record again).
   */
  readonly onResult: (result: RecordResult, dataBytes: number) => void;
  /** A bug inside an operator (they never error for Kinesis failures): the producer errors with it. */
  readonly onError: (err: unknown) => void;
  /** Options for the stream's ShardMap (tests shorten its timings). */
  readonly shardMap?: { readonly refreshIntervalMs?: number; readonly closedShardTtlMs?: number };
  readonly random?: () => number;
  /** The producer's metrics; left out (or disabled) the pipeline installs no metric taps at all. */
  readonly metrics?: MetricsRecorder;
}

/** A running pipeline: put records in, close when nothing is outstanding. */
export interface StreamPipeline {
  put(record: UserRecord): void;
  /** Stops the pipeline and releases its timers, shard map and subscriptions. */
  close(): void;
}

/** How long a new stream's first records wait for its shard map (the KPL's first backoff). */
export const FIRST_LOAD_WAIT_MS = 1000;

function isSendOutcome(value: KinesisRecord | SendOutcome): value is SendOutcome {
  return 'kind' in value;
}

/** Starts one stream's pipeline. Results go to `onResult`; nothing is thrown for Kinesis errors. */
export function startStreamPipeline(options: StreamPipelineOptions): StreamPipeline {
  const { client, streamName, config, scheduler, flush$ } = options;
  const metrics = options.metrics?.enabled ? options.metrics : undefined;
  const onResult = metrics
    ? (result: RecordResult, dataBytes: number): void => {
        recordResultMetrics(metrics, streamName, result, dataBytes);
        options.onResult(result, dataBytes);
      }
    : options.onResult;
  const observeOutcomes: MonoTypeOperatorFunction<SendOutcome> = metrics
    ? tap((outcome) => recordOutcomeMetrics(metrics, outcome))
    : identity;
  const shardMap = new ShardMap({
    client,
    streamName,
    scheduler,
    ...(options.shardMap ?? {}),
    ...(options.random ? { random: options.random } : {}),
  });
  // A terminal failure (missing stream) shows in `shardMap.failure`; shardPredict fails records on it.
  shardMap.start().catch(() => undefined);

  const retries$ = new Subject<BufferedRecord>();
  const throttled$ = new Subject<ThrottleSignal>();
  // A single-subscriber source fed directly: no Subject (its next allocates per call).
  let usersSink: Subscriber<UserRecord> | undefined;
  const users$ = {
    observable: new Observable<UserRecord>((s) => {
      usersSink = s;
      return () => {
        usersSink = undefined;
      };
    }),
    next: (record: UserRecord): void => usersSink?.next(record),
    complete: (): void => usersSink?.complete(),
  };
  // A new stream's first records wait (at most FIRST_LOAD_WAIT_MS) for the map's first load, so they
  // are predicted and aggregated. The KPL sends them unaggregated at once (kpl.md §6), which turns a
  // burst at start-up — `from(array)` — into one Kinesis record per user record.
  let held: UserRecord[] | undefined = [];
  // A flush reaches the aggregator first, then the collector, so what the aggregator lets go is in
  // the collector when it flushes (the KPL instead schedules the collector's flush 80 ms later, kpl.md §5).
  const aggregatorFlush$ = new Subject<void>();
  const collectorFlush$ = new Subject<void>();
  const flushNow = (): void => {
    aggregatorFlush$.next();
    collectorFlush$.next();
  };
  // A flush that arrives while records are held for the first load applies to them on release.
  let flushWhenReleased = false;
  const flushSubscription = flush$.subscribe(() => {
    if (held !== undefined && held.length > 0) flushWhenReleased = true;
    flushNow();
  });

  const send: OperatorFunction<KinesisRecord, SendOutcome> = (records$) =>
    records$.pipe(
      collectBatches({ ...config, scheduler, flush$: collectorFlush$ }),
      putRecords(client, { ...config, scheduler }),
    );

  // Records shardPredict fails go to onResult at once; only buffered records flow on (no connect/filter pair per record).
  const divertResults = (source: Observable<BufferedRecord | RecordResult>): Observable<BufferedRecord> =>
    new Observable<BufferedRecord>((subscriber) =>
      source.subscribe({
        next: (x) => {
          if ((x as { success?: boolean }).success !== undefined) onResult(x as RecordResult, recordBytes((x as RecordResult).record));
          else subscriber.next(x as BufferedRecord);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      }),
    );
  const buffered$: Observable<BufferedRecord> = merge(
    users$.observable.pipe(shardPredict({ ...config, shardMap, streamName, scheduler }), divertResults),
    retries$,
  );

  const outcomes$ = buffered$.pipe(
    aggregateByShard({ ...config, scheduler, flush$: aggregatorFlush$ }),
    rateLimitPerShard({ ...config, scheduler, throttled$ }),
    connect((limited$) =>
      merge(
        limited$.pipe(filter(isSendOutcome)),
        limited$.pipe(
          filter((x): x is KinesisRecord => !isSendOutcome(x)),
          send,
        ),
      ),
    ),
    observeOutcomes,
  );

  // retryClassify's core without its Classified wrapper: each verdict is one call (the results of a
  // 500-record batch are the bulk of the objects this pipeline makes; none waits in an array).
  const classify = retrierOf({
    ...config,
    scheduler,
    shardMap,
    onThrottled: (signal) => throttled$.next(signal),
    ...(options.random ? { random: options.random } : {}),
  });
  const subscription: Subscription = classify(outcomes$, {
    result: onResult,
    retry: (record) => {
      // Predicted again against a possibly refreshed map before it re-enters (kpl.md §8).
      const again = predictAgain(record, shardMap, scheduler.now());
      if (isRecordResult(again)) onResult(again, record.data.byteLength);
      else retries$.next(again);
    },
    // Operators do not error for Kinesis failures; an error here is a bug, and must not hang records.
    error: (err: unknown) => options.onError(err),
    complete: () => undefined,
  });

  // Subscribed last: the map may already be loaded (a synchronous client), releasing at once.
  const gate = merge(shardMap.firstLoad$, timer(FIRST_LOAD_WAIT_MS, scheduler))
    .pipe(take(1))
    .subscribe(() => {
      const waiting = held ?? [];
      held = undefined;
      for (const record of waiting) users$.next(record);
      if (flushWhenReleased) {
        flushWhenReleased = false;
        flushNow();
      }
    });

  return {
    put: (record) => {
      metrics?.put('UserRecordsReceived', 1, streamName);
      if (held !== undefined) held.push(record);
      else users$.next(record);
    },
    close: () => {
      gate.unsubscribe();
      held = undefined;
      flushSubscription.unsubscribe();
      subscription.unsubscribe();
      users$.complete();
      retries$.complete();
      throttled$.complete();
      shardMap.close();
    },
  };
}
