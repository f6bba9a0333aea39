/**
 * The Collector (kpl.md §6, `collector.h`, `put_records_request.h`): one deadline reducer per stream
 * packing Kinesis records into PutRecords requests of ≤ `collectionMaxCount` records and
 * ≤ `collectionMaxSize` bytes, counted as the backend counts them (UTF-8 partition key + data; the
 * explicit hash key is free; an aggregated record's `"a"` is 1 byte).
 *
 * Kept from the KPL and missing in aiokpl (aiokpl.md §4.4, §9 D4): on entry, with aggregation on,
 * a record's deadline is pushed to at least now + min(50, 0.2 × recordMaxBufferedTimeMs) ms
 * (KPL #280), so a record the aggregator closed on its deadline still waits ≥ 20 ms (at defaults)
 * for company; and the per-shard early flush counts exact sizes and skips unpredicted records.
 * Departure: a stream's reducer is dropped as soon as it is empty, so memory follows the streams
 * with records waiting.
 */
import { Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { checkObservable, resolveConfig, resolveScheduler } from '../config';
import { utf8Length } from '../codec/size';
import type { KinesisRecord, PutRecordsBatch } from '../records';
import { guard } from './internal/guard';
import { createReducer, type Reducer, type ReducerBatch, type ReducerContainer } from './internal/reducer';

/** A pending request flushes whole once one predicted shard has this many bytes in it (kpl.md §6). */
export const SHARD_FLUSH_BYTES = 256 * 1024;

/** The most a record's deadline is extended on entry, in ms (kpl.md §5). */
const MAX_DEADLINE_EXTENSION_MS = 50;

/** Options of {@link collectBatches}; the limits are the KPL's, validated as `ProducerConfig` fields. */
export interface CollectBatchesOptions {
  /** Kinesis records per PutRecords. Default 500. */
  collectionMaxCount?: number;
  /** Bytes per PutRecords (partition keys + data). Default 5242880. */
  collectionMaxSize?: number;
  /** Sets the entry extension: min(50, 0.2 × this) ms. Default 100. */
  recordMaxBufferedTimeMs?: number;
  /** With aggregation on (the default), deadlines are extended on entry; off, they are kept. */
  aggregationEnabled?: boolean;
  /** Where time comes from; tests pass their `TestScheduler`. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /** Each emission sends everything buffered now, whatever the deadlines. */
  flush$?: Observable<unknown>;
}

/** How a record counts towards the 5 MiB limit (`put_records_request.h`). */
function requestSize(record: KinesisRecord): number {
  return utf8Length(record.partitionKey) + record.data.length;
}

/** A pending PutRecords request. One per request, not per record. */
class RequestContainer implements ReducerContainer<KinesisRecord> {
  count = 0;
  size = 0;
  /** Bytes of data per predicted shard in the request. */
  private readonly byShard = new Map<string, number>();

  sizeIfAdded(record: KinesisRecord): number {
    return this.size + requestSize(record);
  }

  add(record: KinesisRecord): void {
    this.count++;
    this.size += requestSize(record);
    const shard = record.predictedShard;
    // Unpredicted records count for no shard (the KPL's should_flush skips them).
    if (shard !== undefined) this.byShard.set(shard, (this.byShard.get(shard) ?? 0) + record.data.length);
  }

  shardBytes(shard: string): number {
    return this.byShard.get(shard) ?? 0;
  }
}

const newRequestContainer = (): RequestContainer => new RequestContainer();

const shardIsFull = (record: KinesisRecord, request: RequestContainer): boolean =>
  record.predictedShard !== undefined && request.shardBytes(record.predictedShard) >= SHARD_FLUSH_BYTES;

/**
 * Packs Kinesis records of one stream into PutRecords requests. A request closes when it holds
 * `collectionMaxCount` records, when it reaches `collectionMaxSize` bytes (what does not fit waits,
 * earliest deadlines first), when one predicted shard has 256 KiB in it, or at the earliest
 * deadline inside. With aggregation on, each record's deadline is first extended to at least
 * now + min(50, 0.2 × recordMaxBufferedTimeMs), never past its expiration.
 *
 * ```text
 * source:  -a-b-----------c-|
 * result:  -----------x-----(y|)      a, b, c with deadline arrival + 10, aggregation off
 *                                     x = [a, b]   y = [c]
 * ```
 *
 * - Completion: everything buffered is emitted, then the result completes.
 * - Error: the source's error passes through at once; buffered records are dropped.
 * - Unsubscribe: every timer is cancelled and nothing is held.
 * - `flush$`: its error errors the result (buffered records dropped); its completion changes nothing.
 *
 * @example aggregated$.pipe(collectBatches({ recordMaxBufferedTimeMs: 100, flush$ }))
 *
 * @param options - the collection limits, the scheduler and the flush trigger.
 * @returns an operator from {@link KinesisRecord} to {@link PutRecordsBatch}.
 * @throws ValidationError when a limit is out of range.
 */
export function collectBatches(options: CollectBatchesOptions = {}): OperatorFunction<KinesisRecord, PutRecordsBatch> {
  const config = resolveConfig(options);
  const { collectionMaxCount, collectionMaxSize, aggregationEnabled } = config;
  const extensionMs = Math.min(MAX_DEADLINE_EXTENSION_MS, 0.2 * config.recordMaxBufferedTimeMs);
  const scheduler = resolveScheduler(options.scheduler);
  const flush$ = options.flush$;
  checkObservable('flush$', flush$);

  return (source) =>
    new Observable<PutRecordsBatch>((subscriber) => {
      let streams = new Map<string, Reducer<KinesisRecord>>();

      const emit = (streamName: string, batches: readonly ReducerBatch<KinesisRecord>[]): void => {
        for (let i = 0; i < batches.length; i++) {
          const batch: PutRecordsBatch = { streamName, records: batches[i].items, size: batches[i].size };
          subscriber.next(batch);
        }
      };

      const reducerFor = (streamName: string): Reducer<KinesisRecord> => {
        let reducer = streams.get(streamName);
        if (reducer === undefined) {
          const created: Reducer<KinesisRecord> = createReducer({
            countLimit: collectionMaxCount,
            sizeLimit: collectionMaxSize,
            newContainer: newRequestContainer,
            flushPredicate: shardIsFull,
            scheduler,
            onDeadline: guard(subscriber, (batches: ReducerBatch<KinesisRecord>[]) => {
              // Dropped before emitting: code downstream may add to this stream again.
              dropIfEmpty(streamName, created);
              emit(streamName, batches);
            }),
          });
          streams.set(streamName, created);
          reducer = created;
        }
        return reducer;
      };

      /** Forgets a stream's reducer once it holds nothing (unless a flush already replaced it). */
      const dropIfEmpty = (streamName: string, reducer: Reducer<KinesisRecord>): void => {
        if (reducer.count === 0 && streams.get(streamName) === reducer) streams.delete(streamName);
      };

      /** Takes every batch out first, then emits: a re-entrant add lands in a fresh reducer. */
      const flushAll = (): void => {
        const taken = streams;
        streams = new Map();
        const out: [string, ReducerBatch<KinesisRecord>[]][] = [];
        for (const [streamName, reducer] of taken) out.push([streamName, reducer.flush()]);
        for (const [streamName, batches] of out) emit(streamName, batches);
      };

      const closeAll = (): void => {
        for (const reducer of streams.values()) reducer.close();
        streams = new Map();
      };

      let flushSubscription: Subscription | undefined;
      if (flush$ !== undefined) {
        flushSubscription = flush$.subscribe({
          next: guard(subscriber, flushAll),
          error: (err: unknown) => {
            closeAll();
            subscriber.error(err);
          },
        });
      }

      const sourceSubscription = source.subscribe({
        next: guard(subscriber, (record: KinesisRecord) => {
          if (aggregationEnabled) {
            // KPL #280 (kpl.md §5): leave time to fill a request after the aggregator's deadline.
            const extended = Math.min(scheduler.now() + extensionMs, record.expiration);
            if (record.deadline < extended) record.deadline = extended;
          }
          const reducer = reducerFor(record.streamName);
          const batches = reducer.add(record);
          if (batches.length > 0) {
            dropIfEmpty(record.streamName, reducer);
            emit(record.streamName, batches);
          }
        }),
        error: (err: unknown) => {
          closeAll();
          subscriber.error(err);
        },
        complete: guard(subscriber, () => {
          flushAll();
          subscriber.complete();
        }),
      });

      return () => {
        sourceSubscription.unsubscribe();
        flushSubscription?.unsubscribe();
        closeAll();
      };
    });
}
