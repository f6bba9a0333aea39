/**
 * The Limiter stage: one token bucket and one deadline-ordered queue per (stream, predicted shard),
 * drained on every arrival and every 25 ms, with expired records sent to the expiry path. Mirrors
 * the KPL's `Limiter` (`aws/kinesis/core/limiter.h`, kpl.md §7) with three departures:
 * - throttle feedback (AIMD, see `internal/limiter-shard.ts`): the KPL's `add_error` is a TODO;
 * - the drain timer runs only while a record waits (the KPL polls forever, aiokpl too);
 * - completion waits for the queues to empty under the rate limit (aiokpl's `flush` force-drained
 *   past it, aiokpl.md §9 D5); the KPL's flush never forced the Limiter either (kpl.md §5).
 * Like the KPL and unlike aiokpl (D5), records with no predicted shard skip the Limiter.
 */
import { Observable, type OperatorFunction, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import { checkObservable, checkOptionsObject, resolveConfig, resolveScheduler, ValidationError } from '../config';
import { utf8Length } from '../codec/size';
import type { KinesisRecord, SendOutcome } from '../records';
import { guard } from './internal/guard';
import { createShardLimiter, drainShard, enqueue, recover, throttle, tryAdmit, type ShardLimiter } from './internal/limiter-shard';

/** The KPL's `kDrainDelayMillis`: how often waiting records are looked at, in ms (kpl.md §7). */
const DRAIN_INTERVAL_MS = 25;

/**
 * A shard Kinesis throttled: its predicted shard id alone (applies to that shard id in every stream
 * this operator has seen — in the usual one-stream case, exactly one), or with its stream.
 */
export type ThrottleSignal = string | { readonly streamName: string; readonly shardId: string };

/** Options for {@link rateLimitPerShard}. */
export interface RateLimitPerShardOptions {
  /** Per-shard rate limit in % of 1000 records/s and 1 MiB/s (the KPL's RateLimit). Default 150, 1 … 10000. */
  rateLimit?: number;
  /** Where time comes from; tests pass their `TestScheduler`. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /** Shards Kinesis throttled (from the Retrier): each halves that shard's refill rate, at most once per 100 ms. */
  throttled$?: Observable<ThrottleSignal>;
  /** How often waiting records are drained, in ms. Default 25 (the KPL's). */
  drainIntervalMs?: number;
}

/**
 * Holds each Kinesis record until its shard's token bucket (1 record and `record.size` bytes) lets
 * it through, in deadline order; a record that expires while waiting leaves as an `expired`
 * `SendOutcome` instead (taking no tokens), which the Retrier turns into an `Expired` failure.
 *
 * ```text
 * source:  (abc|)
 * result:  a 99ms b 99ms (c|)      rateLimit 10000; a, b, c are 10 MiB records of one shard
 *          bytes refill 1 MiB × 100 = 100 MiB/s: a empties the 10 MiB bucket at 0, 10 MiB grow back
 *          in 100 ms, seen by the drain at 4 × 25 = 100; c likewise at 200, then the result completes
 * ```
 *
 * - A record is admitted at once when its shard's queue is empty and the tokens suffice; otherwise it
 *   waits, and the shard drains on every arrival and every `drainIntervalMs` while anything waits:
 *   expired records (`now > expiration`) leave first, then records are admitted in deadline order up
 *   to the first that does not fit (head-of-line blocking, as the KPL).
 * - A record with no predicted shard passes at once (the KPL skips the Limiter for it), unless it is
 *   already past its expiration: then it leaves as `expired` (the KPL would send it).
 * - Throttle feedback (AIMD): a signal on `throttled$` halves that shard's refill rates (at most once
 *   per 100 ms, floor 10% of nominal); they grow back by 10% of nominal per second.
 * - Completion: waits until every queued record is admitted or expired, then completes.
 * - Error: the source's (or `throttled$`'s) error passes on; queued records are dropped.
 * - Unsubscribe: the drain timer is cancelled and the queues dropped.
 *
 * @example kinesisRecords$.pipe(rateLimitPerShard({ rateLimit: 150, throttled$ }))
 *
 * @param options - the rate limit, the scheduler, the throttle signals.
 * @returns an operator emitting each admitted record itself (same object) and an `expired`
 *   {@link SendOutcome} for each expired one (tell them apart with `'kind' in value`).
 * @throws ValidationError when `rateLimit` or `drainIntervalMs` is out of range.
 */
export function rateLimitPerShard(options: RateLimitPerShardOptions = {}): OperatorFunction<KinesisRecord, KinesisRecord | SendOutcome> {
  checkOptionsObject(options);
  const { rateLimit } = resolveConfig({ rateLimit: options.rateLimit });
  const { throttled$, drainIntervalMs = DRAIN_INTERVAL_MS } = options;
  const scheduler = resolveScheduler(options.scheduler);
  checkObservable('throttled$', throttled$);
  if (typeof drainIntervalMs !== 'number' || !(drainIntervalMs > 0) || !Number.isFinite(drainIntervalMs)) {
    throw new ValidationError('drainIntervalMs', drainIntervalMs, 'a finite number > 0');
  }

  return (source) =>
    new Observable<KinesisRecord | SendOutcome>((subscriber) => {
      /**
       * shard id → its limiter, chained through `otherStream` to the same shard id of other streams.
       * One map read and a string compare per record, and no key string built (an operator usually
       * serves one stream: kinesisProducer keeps one pipeline per stream). Limiters live as long as
       * the subscription, one per shard ever seen (a few hundred bytes each), as in the KPL.
       */
      let limiters = new Map<string, ShardLimiter>();
      /** Limiters with a non-empty queue. */
      let backlog = new Set<ShardLimiter>();
      let timer: Subscription | null = null;
      let completed = false;

      const emitExpired = (record: KinesisRecord, now: number): void => {
        subscriber.next({
          kind: 'expired',
          batch: { streamName: record.streamName, records: [record], size: utf8Length(record.partitionKey) + record.size },
          startedAt: now,
          endedAt: now,
        });
      };

      /** Drains one shard; the queue is settled before anything is emitted (downstream may re-enter). */
      const drain = (limiter: ShardLimiter, now: number): void => {
        const drained = drainShard(limiter, now);
        if (limiter.queue.length === 0) backlog.delete(limiter);
        if (drained === null) return;
        const { expired, admitted } = drained;
        for (let i = 0; i < expired.length; i++) emitExpired(expired[i], now);
        for (let i = 0; i < admitted.length; i++) subscriber.next(admitted[i]);
      };

      const finishIfDone = (): void => {
        if (completed && backlog.size === 0) subscriber.complete();
      };

      // One action re-armed by itself (as rxjs `debounceTime` does), so asyncScheduler keeps one interval.
      function tick(this: SchedulerAction<void>): void {
        try {
          const now = scheduler.now();
          for (const limiter of backlog) {
            drain(limiter, now);
            if (subscriber.closed) return;
          }
          if (backlog.size > 0) {
            this.schedule(undefined, drainIntervalMs);
          } else {
            timer = null;
            finishIfDone();
          }
        } catch (err) {
          subscriber.error(err);
        }
      }

      const limiterFor = (record: KinesisRecord, shardId: string): ShardLimiter => {
        const first = limiters.get(shardId);
        const streamName = record.streamName;
        for (let limiter = first; limiter !== undefined; limiter = limiter.otherStream) {
          if (limiter.streamName === streamName) return limiter;
        }
        const created = createShardLimiter(streamName, shardId, rateLimit, scheduler);
        created.otherStream = first;
        limiters.set(shardId, created);
        return created;
      };

      const onThrottle = guard(subscriber, (signal: ThrottleSignal) => {
        const now = scheduler.now();
        if (typeof signal === 'string') {
          for (let limiter = limiters.get(signal); limiter !== undefined; limiter = limiter.otherStream) throttle(limiter, now);
        } else if (typeof signal === 'object' && signal !== null && typeof signal.shardId === 'string') {
          for (let limiter = limiters.get(signal.shardId); limiter !== undefined; limiter = limiter.otherStream) {
            if (limiter.streamName === signal.streamName) throttle(limiter, now);
          }
        } else {
          throw new ValidationError('throttle signal', signal, 'a shard id, or { streamName, shardId }');
        }
      });

      const throttleSubscription = throttled$?.subscribe({ next: onThrottle, error: (err: unknown) => subscriber.error(err) });

      const sourceSubscription = source.subscribe({
        // The hot path: a try/catch of its own does what `guard` does, without a rest-args wrapper per record.
        next: (record: KinesisRecord) => {
          try {
            const now = scheduler.now(); // the one clock read per record
            const shardId = record.predictedShard;
            if (shardId === undefined) {
              // The KPL hands unpredicted records straight on (kpl.md §7), expired or not; we expire
              // one that is past its TTL already (a new stream's first records, held while its map
              // never loaded), so recordTtlMs holds on this path too.
              if (now > record.expiration) emitExpired(record, now);
              else subscriber.next(record);
              return;
            }
            const limiter = limiterFor(record, shardId);
            if (limiter.queue.length === 0) {
              // Fast path, allocation-free: nothing waits ahead of this record.
              if (now > record.expiration) {
                emitExpired(record, now);
                return;
              }
              if (limiter.factor < 1) recover(limiter, now);
              if (tryAdmit(limiter, record, now)) {
                subscriber.next(record);
                return;
              }
              enqueue(limiter, record);
              backlog.add(limiter);
            } else {
              enqueue(limiter, record);
              drain(limiter, now);
            }
            if (timer === null && backlog.size > 0 && !subscriber.closed) timer = scheduler.schedule(tick, drainIntervalMs);
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: guard(subscriber, () => {
          completed = true;
          finishIfDone();
        }),
      });

      return () => {
        sourceSubscription.unsubscribe();
        throttleSubscription?.unsubscribe();
        timer?.unsubscribe();
        timer = null;
        limiters = new Map();
        backlog = new Set();
      };
    });
}
