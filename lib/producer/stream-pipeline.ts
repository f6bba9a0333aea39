/**
 * One stream's pipeline: the KPL's `Pipeline` (kpl.md, "Data path for each stream", `pipeline.h`),
 * built from the public operators' stages and closed into a loop. `aggregateByShard`,
 * `rateLimitPerShard`, `collectBatches` and `putRecords` run as the operators themselves; prediction
 * and classification run as the very functions the `shardPredict` and `retryClassify` operators wrap
 * (`recordPredictor`, `retrierOf`), called directly: same rules, same code, no rxjs hop per record
 * (issue 9: those hops and the wrapper objects were a measured share of the per-record cost).
 *
 * ```text
 * users ─► predict ──────┬─► aggregateByShard ─► rateLimitPerShard ─┬─► collectBatches ─► putRecords ─┐
 *                        │                                         └─ expired ───────────────────────┤
 *                        └─ invalid / stream failed ─► result                            retryClassify ◄┘
 *                                                                    result ◄─┤
 *         retries ─► predictAgain ─► (back in before aggregateByShard) ◄─ retry ┘
 * ```
 *
 * Records come in by a call (`put(record, token)`), not through the `shardPredict` operator: the
 * carrier keeps the producer's token, and every result goes out with it (`onResult`), so the
 * producer finds a result's put without a lookup. New records and retries share one source.
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
import { dataBytesOf } from '../operators/internal/attempts';
import { burstClock } from '../operators/internal/clock';
import { recordBytes } from './record-bytes';
import { recordOutcomeMetrics, recordResultMetrics } from './pipeline-metrics';
import type { ProducerConfig } from '../config';
import { aggregateByShard } from '../operators/aggregate-by-shard';
import { collectBatches } from '../operators/collect-batches';
import { putRecords } from '../operators/put-records';
import { rateLimitPerShard, type ThrottleSignal } from '../operators/rate-limit-per-shard';
import { retrierOf } from '../operators/retry-classify';
import { predictAgain, recordPredictor } from '../operators/shard-predict';
import {
  type BufferedRecord,
  type KinesisRecord,
  type RecordResult,
  type SendOutcome,
  type UserRecord,
  isRecordResult,
  isSendOutcome,
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
   * (what `recordBytes` counted when it was put, known here without reading the user's record again)
   * and the token the record was put with.
   */
  readonly onResult: (result: RecordResult, dataBytes: number, token: unknown) => void;
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
  /** `token` comes back with the record's result (`onResult`). */
  put(record: UserRecord, token: unknown): void;
  /** Stops the pipeline and releases its timers, shard map and subscriptions. */
  close(): void;
}

/** How long a new stream's first records wait for its shard map (the KPL's first backoff). */
export const FIRST_LOAD_WAIT_MS = 1000;

/** Starts one stream's pipeline. Results go to `onResult`; nothing is thrown for Kinesis errors. */
export function startStreamPipeline(options: StreamPipelineOptions): StreamPipeline {
  const { client, streamName, config, scheduler, flush$ } = options;
  const metrics = options.metrics?.enabled ? options.metrics : undefined;
  const onResult = metrics
    ? (result: RecordResult, dataBytes: number, token: unknown): void => {
        recordResultMetrics(metrics, streamName, result, dataBytes);
        options.onResult(result, dataBytes, token);
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

  const throttled$ = new Subject<ThrottleSignal>();
  // New records and retries, fed directly into aggregateByShard: one single-subscriber source, no
  // Subject (its next allocates per call), no operator between the producer and the aggregator.
  let bufferedSink: Subscriber<BufferedRecord> | undefined;
  const buffered$ = new Observable<BufferedRecord>((s) => {
    bufferedSink = s;
    return () => {
      bufferedSink = undefined;
    };
  });
  const predict = recordPredictor({ ...config, shardMap, streamName });
  // Arrival stamps: one clock read per burst of records, not per record (internal/clock.ts).
  const clock = burstClock(scheduler);
  const enter = (record: UserRecord, token: unknown, arrival: number): void => {
    let x: BufferedRecord | RecordResult;
    try {
      x = predict(record, token, arrival);
    } catch (err) {
      options.onError(err); // predict throws only on a bug: the producer errors, nothing hangs
      return;
    }
    // A record refused by validation or by a failed map: its result at once.
    if (isRecordResult(x)) onResult(x, recordBytes(record), token);
    else bufferedSink?.next(x);
  };
  // A new stream's first records wait (at most FIRST_LOAD_WAIT_MS) for the map's first load, so they
  // are predicted and aggregated. The KPL sends them unaggregated at once (kpl.md §6), which turns a
  // burst at start-up — `from(array)` — into one Kinesis record per user record. Each keeps the time
  // it was put: the hold counts in its delayMs, its deadline and against recordTtlMs.
  let held: UserRecord[] | undefined = [];
  let heldTokens: unknown[] = [];
  let heldArrivals: number[] = [];
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
    result: (result, carrier) => onResult(result, dataBytesOf(carrier), carrier.token),
    retry: (record) => {
      // Predicted again against a possibly refreshed map before it re-enters (kpl.md §8).
      const again = predictAgain(record, shardMap, scheduler.now());
      if (isRecordResult(again)) onResult(again, dataBytesOf(record), record.token);
      else bufferedSink?.next(again);
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
      const tokens = heldTokens;
      const arrivals = heldArrivals;
      held = undefined;
      heldTokens = [];
      heldArrivals = [];
      for (let i = 0; i < waiting.length; i++) enter(waiting[i], tokens[i], arrivals[i]);
      if (flushWhenReleased) {
        flushWhenReleased = false;
        flushNow();
      }
    });

  return {
    put: (record, token) => {
      metrics?.put('UserRecordsReceived', 1, streamName);
      if (held !== undefined) {
        held.push(record);
        heldTokens.push(token);
        heldArrivals.push(clock());
      } else enter(record, token, clock());
    },
    close: () => {
      gate.unsubscribe();
      held = undefined;
      heldTokens = [];
      heldArrivals = [];
      flushSubscription.unsubscribe();
      subscription.unsubscribe();
      bufferedSink?.complete();
      throttled$.complete();
      shardMap.close();
    },
  };
}
