/**
 * The Aggregator (kpl.md §6, `aggregator.h`): one deadline reducer per (stream, predicted shard),
 * closing aggregated Kinesis records at `aggregationMaxCount` / `aggregationMaxSize` (exact sizes,
 * staged by `AggregateBuilder` as records arrive) or at the earliest deadline inside.
 *
 * Departures from the KPL: a record with no predicted shard is sent alone, never aggregated with
 * records of other shards (aiokpl's bug B1, aiokpl.md §9); with aggregation off, a record keeps
 * its predicted shard (the KPL clears it, so its Limiter and 256 KiB rule skip such records); a
 * reducer is dropped as soon as it is empty (after any flush), so memory follows the shards with
 * records waiting, not every shard ever seen (after a reshard, the closed parents' reducers go).
 */
import { Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { checkObservable, resolveConfig, resolveScheduler } from '../config';
import { AggregateBuilder } from '../codec/aggregation';
import type { BufferedRecord, KinesisRecord } from '../records';
import { guard } from './internal/guard';
import { buildKinesisRecord } from './internal/kinesis-record';
import { createReducer, type Reducer, type ReducerBatch, type ReducerContainer } from './internal/reducer';

/** Options of {@link aggregateByShard}; the limits are the KPL's, validated as `ProducerConfig` fields. */
export interface AggregateByShardOptions {
  /** Aggregate records of one predicted shard. Default true; false sends every record alone. */
  aggregationEnabled?: boolean;
  /** User records per aggregated record. Default 4294967295. */
  aggregationMaxCount?: number;
  /** Bytes per aggregated record (exact, magic and MD5 included). Default 51200. */
  aggregationMaxSize?: number;
  /** Where time comes from; tests pass their `TestScheduler`. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /** Each emission sends everything buffered now, whatever the deadlines (the producer's `flush()`). */
  flush$?: Observable<unknown>;
}

/**
 * One aggregated record in the making: its builder writes each record's bytes as it is added
 * (exact size, key tables), so closing it only copies the staged bytes and hashes them. One per
 * batch, not per record, and reused from batch to batch (see `POOL_SIZE`); a class so every
 * container has one shape (the reducer's calls stay monomorphic).
 */
class AggregateContainer implements ReducerContainer<BufferedRecord> {
  readonly builder = new AggregateBuilder();

  get count(): number {
    return this.builder.count;
  }

  get size(): number {
    return this.builder.size;
  }

  sizeIfAdded(r: BufferedRecord): number {
    return this.builder.sizeIfAdded(r.record.partitionKey, r.explicitHashKey, r.data.length);
  }

  add(r: BufferedRecord): void {
    this.builder.add(r.record.partitionKey, r.explicitHashKey, r.data);
  }

  removeLast(): void {
    this.builder.removeLast();
  }
}

/**
 * Emitted containers kept for reuse per subscription: a container's staging buffers grow to an
 * aggregated record's size once (64 KiB at the default 51,200), then serve batch after batch. A
 * busy shard gives its container back as it takes the next; the pool covers a flush (or a wave of
 * deadlines) of up to this many shards at once, so the next wave does not grow new buffers. At
 * most this many × ~64 KiB stay allocated between batches (the peak the shards already used).
 */
const POOL_SIZE = 256;

/**
 * Packs buffered records of one predicted shard into Kinesis records: aggregated when several,
 * raw when alone. A Kinesis record closes when it holds `aggregationMaxCount` records, when it
 * reaches `aggregationMaxSize` bytes (what does not fit waits for the next one, earliest
 * deadlines first), or at the earliest deadline of the records inside.
 *
 * ```text
 * source:  -a-b-----------c-|
 * result:  -----------x-----(y|)      a, b on shard 1 with deadline arrival + 10
 *                                     x = aggregated [a, b]   y = c alone (raw)
 * ```
 *
 * - Records of different shards are never aggregated together; a record with no predicted
 *   shard, or any record when `aggregationEnabled` is false, goes out alone at once.
 * - Completion: everything buffered is emitted, then the result completes.
 * - Error: the source's error passes through at once; buffered records are dropped (the producer
 *   fails them by its own bookkeeping).
 * - Unsubscribe: every timer is cancelled and nothing is held.
 * - `flush$`: its error errors the result (buffered records dropped); its completion changes nothing.
 *
 * @example predicted$.pipe(aggregateByShard({ aggregationMaxSize: 51200, flush$ }))
 *
 * @param options - the aggregation limits, the scheduler and the flush trigger.
 * @returns an operator from {@link BufferedRecord} to {@link KinesisRecord}.
 * @throws ValidationError when a limit is out of range.
 */
export function aggregateByShard(options: AggregateByShardOptions = {}): OperatorFunction<BufferedRecord, KinesisRecord> {
  const config = resolveConfig(options);
  const { aggregationEnabled, aggregationMaxCount, aggregationMaxSize } = config;
  const scheduler = resolveScheduler(options.scheduler);
  const flush$ = options.flush$;
  checkObservable('flush$', flush$);

  return (source) =>
    new Observable<KinesisRecord>((subscriber) => {
      /** stream → predicted shard → reducer. Nested maps: no key string built per record. */
      let streams = new Map<string, Map<string, Reducer<BufferedRecord>>>();

      const pool: AggregateContainer[] = [];
      const newContainer = (): AggregateContainer => pool.pop() ?? new AggregateContainer();

      const emit = (streamName: string, shard: string, batches: readonly ReducerBatch<BufferedRecord>[]): void => {
        for (let i = 0; i < batches.length; i++) {
          const batch = batches[i];
          // The container staged exactly these items: encoding copies them out and hashes.
          const container = batch.container as AggregateContainer | undefined;
          const kinesisRecord = buildKinesisRecord(streamName, shard, batch.items, batch.size, batch, container?.builder);
          if (container !== undefined && pool.length < POOL_SIZE) {
            // Encoded (or sent raw): nothing refers to it any more. Given back before emitting, so a re-entrant add can take it.
            container.builder.clear();
            pool.push(container);
          }
          subscriber.next(kinesisRecord);
        }
      };

      // The last stream's shard map, so the common single-stream case does one Map lookup per record.
      let lastStreamName: string | undefined;
      let lastShards: Map<string, Reducer<BufferedRecord>> | undefined;

      const reducerFor = (streamName: string, shard: string): Reducer<BufferedRecord> => {
        let shards = lastShards;
        if (streamName !== lastStreamName || shards === undefined) {
          shards = streams.get(streamName);
          if (shards === undefined) {
            shards = new Map();
            streams.set(streamName, shards);
          }
          lastStreamName = streamName;
          lastShards = shards;
        }
        const reducer = shards.get(shard);
        return reducer ?? create(streamName, shard, shards);
      };

      const create = (streamName: string, shard: string, shards: Map<string, Reducer<BufferedRecord>>): Reducer<BufferedRecord> => {
        const created: Reducer<BufferedRecord> = createReducer({
          countLimit: aggregationMaxCount,
          sizeLimit: aggregationMaxSize,
          newContainer,
          scheduler,
          onDeadline: guard(subscriber, (batches: ReducerBatch<BufferedRecord>[]) => {
            // Dropped before emitting: code downstream may add to this shard again (retries).
            if (created.count === 0) drop(streamName, shard, created);
            emit(streamName, shard, batches);
          }),
        });
        shards.set(shard, created);
        return created;
      };

      const drop = (streamName: string, shard: string, reducer: Reducer<BufferedRecord>): void => {
        const shards = streams.get(streamName);
        if (shards === undefined || shards.get(shard) !== reducer) return;
        shards.delete(shard);
        if (shards.size === 0) {
          streams.delete(streamName);
          if (lastShards === shards) lastShards = undefined;
        }
      };

      /** Takes every batch out first, then emits: a re-entrant add lands in fresh reducers. */
      const flushAll = (): void => {
        const taken = streams;
        streams = new Map();
        lastShards = undefined;
        const out: [string, string, ReducerBatch<BufferedRecord>[]][] = [];
        for (const [streamName, shards] of taken) {
          for (const [shard, reducer] of shards) out.push([streamName, shard, reducer.flush()]);
        }
        for (const [streamName, shard, batches] of out) emit(streamName, shard, batches);
      };

      const closeAll = (): void => {
        for (const shards of streams.values()) for (const reducer of shards.values()) reducer.close();
        streams = new Map();
        lastShards = undefined;
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
        // `guard` written out: the per-record path allocates nothing (guard's rest arguments would).
        next: (record: BufferedRecord) => {
          try {
            const shard = record.predictedShard;
            if (!aggregationEnabled || shard === undefined) {
              subscriber.next(buildKinesisRecord(record.streamName, shard, [record], record.data.length));
              return;
            }
            const reducer = reducerFor(record.streamName, shard);
            const batches = reducer.add(record);
            if (batches.length > 0) {
              if (reducer.count === 0) drop(record.streamName, shard, reducer);
              emit(record.streamName, shard, batches);
            }
          } catch (err) {
            subscriber.error(err);
          }
        },
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
