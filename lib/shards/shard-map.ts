/**
 * ShardMap: which open shard of one stream owns a hash key. Mirrors the KPL's
 * `aws/kinesis/core/shard_map.{h,cc}` (kpl.md §4) with these departures:
 *
 * - **The old snapshot keeps answering while a refresh runs** (the KPL and aiokpl stop predicting
 *   during UPDATING, aiokpl.md §9 B1). Only before the very first load is a record unpredicted.
 * - **Periodic refresh** every `refreshIntervalMs` (default 60 s, re-armed after each load), so a
 *   stale map converges even when no error reveals it (the KPL has none; aiokpl.md §9 B2).
 * - **Terminal first load**: `ResourceNotFoundException` / `AccessDeniedException` before the first
 *   success stop the map (`failure`, `start()` rejects) instead of retrying forever (aiokpl.md §9 B3).
 *   After a first success they are transient like any other error: the stream may be being
 *   re-created (kpl.md §8, PR #318), and the last snapshot keeps answering.
 * - **Jitter** on the KPL's backoff (below), and every timer on the injected scheduler.
 *
 * Backoff after a failed load (kpl.md §4, integer ×3/2 from `minBackoffMs`, capped at `maxBackoffMs`):
 *
 * ```text
 * failure:   1     2     3     4     5     6     7      8      9      10+
 * base ms:   1000  1500  2250  3375  5062  7593  11389  17083  25624  30000
 * waited:    base × (1 − 0.2 × random())   i.e. in (0.8 × base, base]: jitter only shortens
 * ```
 *
 * Jitter only shortens the wait, so `maxBackoffMs` stays a true maximum and `random: () => 0` gives
 * the KPL's exact sequence. The base goes back to `minBackoffMs` after a successful load. A failure
 * in the middle of paging restarts from page 1 (as `update()` does in the KPL).
 */
import { ListShardsCommand, type KinesisClient, type ListShardsCommandOutput } from '@aws-sdk/client-kinesis';
import { AsyncSubject, defer, Observable, take, type ObservableInput, type SchedulerLike, type Subscriber, Subscription } from 'rxjs';
import { bigIntToHashKey, MAX_HASH_KEY, type HashKey } from '../codec/hash';
import { checkMs, checkOptionsObject, resolveScheduler, ValidationError } from '../config';
import { errorCodeOf, errorMessageOf, isShardFilterRejection, listShardsInput, readShardPage } from './list-shards';
import { buildShardTable, lookupShard, type ShardEntry, type ShardTable } from './shard-table';

/** Options of {@link ShardMap}. */
export interface ShardMapOptions {
  /** Only `send` is called, with `ListShardsCommand`s; its answer is read with rxjs `from()`. */
  client: Pick<KinesisClient, 'send'>;
  /** The stream this map describes. */
  streamName: string;
  /** Where time comes from; tests pass their `TestScheduler`. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /** Reload this long after each successful load, in ms; 0 disables. Default 60000. */
  refreshIntervalMs?: number;
  /** How long a shard that left the open set keeps answering {@link ShardMap.hashRange}, in ms. Default 60000. */
  closedShardTtlMs?: number;
  /** First wait after a failed load, in ms. Default 1000 (kpl.md §4 `kMinBackoff`). */
  minBackoffMs?: number;
  /** Longest wait after failed loads, in ms. Default 30000 (kpl.md §4 `kMaxBackoff`). */
  maxBackoffMs?: number;
  /** Jitter source in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/** A terminal failure of the first load: the AWS error code and message. */
export interface ShardMapFailure {
  readonly errorCode: string;
  readonly errorMessage: string;
}

/** Fraction of the backoff base that jitter may take off. */
export const SHARD_MAP_BACKOFF_JITTER = 0.2;

/** Error codes that end the map when they answer the first load. */
const TERMINAL_ON_FIRST_LOAD: ReadonlySet<string> = new Set(['ResourceNotFoundException', 'AccessDeniedException']);

interface KnownRange {
  readonly startingHashKey: bigint;
  readonly endingHashKey: bigint;
  /** Scheduler time the shard left the open set; undefined while open. */
  readonly closedAt: number | undefined;
}

/**
 * Predicts the shard of a hash key for one stream, from ListShards, and keeps that answer fresh.
 *
 * ```text
 * start()     ListShards (pages of 1000, AT_LATEST) ──► snapshot ──► ready
 * predict*    answered from the last snapshot, also while a refresh runs
 * refresh     on invalidate(seenAt, predicted?) · refreshedSince(t) · every refreshIntervalMs · after a failure (backoff)
 * ```
 *
 * - Completion: `start()` resolves after the first successful load, and rejects with an Error whose
 *   `name` is the AWS code on a terminal first load (`ResourceNotFoundException`,
 *   `AccessDeniedException`), or with an `AbortError` if `close()` comes first. Transient failures
 *   retry with backoff and `start()` keeps waiting. The returned promise is also observed
 *   internally, so an ignored `start()` never raises an unhandled rejection (read `failure`).
 * - Error: nothing is thrown after construction; failures are in `failure` or retried.
 * - Close: `close()` cancels every timer and in-flight request; the last snapshot keeps answering.
 *
 * @example
 * const map = new ShardMap({ client, streamName: 'orders' });
 * await map.start();
 * map.predict(partitionKeyToHashKey('user-123')); // 'shardId-000000000002'
 */
export class ShardMap {
  private readonly client: Pick<KinesisClient, 'send'>;
  private readonly streamName: string;
  private readonly scheduler: SchedulerLike;
  private readonly refreshIntervalMs: number;
  private readonly closedShardTtlMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly random: () => number;

  private table: ShardTable | undefined;
  private openSet: ReadonlySet<string> = new Set();
  private readonly ranges = new Map<string, KnownRange>();
  private lastLoadAt = Number.NEGATIVE_INFINITY;
  private terminal: ShardMapFailure | undefined;
  private backoffMs: number;
  private useFilter = true;
  /** A load cycle is running: a request in flight or a backoff wait before the next try. */
  private loading = false;
  private closed = false;
  private request: Subscription | undefined;
  private retryTimer: Subscription | undefined;
  private refreshTimer: Subscription | undefined;
  private purgeTimer: Subscription | undefined;
  private started: Promise<void> | undefined;
  /** Scheduler time the running load cycle sent its first page (a retry after a failure restarts it). */
  private cycleStartedAt = Number.NEGATIVE_INFINITY;
  /** Start time of the load cycle behind the current snapshot. */
  private snapshotStartedAt = Number.NEGATIVE_INFINITY;
  /** Callers of {@link ShardMap.refreshedSince} waiting for a load that started late enough. */
  private readonly waiters = new Set<{ readonly since: number; readonly subscriber: Subscriber<void> }>();
  /** A waiter needs a load that starts after the one running now: begin one as soon as it installs. */
  private reloadWanted = false;
  private settle: { resolve: () => void; reject: (err: Error) => void } | undefined;

  /** @throws ValidationError for a missing client or stream name, or a bad timing option. */
  constructor(options: ShardMapOptions) {
    checkOptionsObject(options);
    const { client, streamName, random = Math.random } = options;
    if (typeof client !== 'object' || client === null || typeof client.send !== 'function') {
      throw new ValidationError('client', client, 'an object with a send() method (a KinesisClient)');
    }
    if (typeof streamName !== 'string' || streamName.length === 0) {
      throw new ValidationError('streamName', streamName, 'a non-empty string');
    }
    const scheduler = resolveScheduler(options.scheduler);
    if (typeof random !== 'function') throw new ValidationError('random', random, 'a function returning [0, 1)');
    this.client = client;
    this.streamName = streamName;
    this.scheduler = scheduler;
    this.random = random;
    this.refreshIntervalMs = checkMs('refreshIntervalMs', options.refreshIntervalMs, 0, 60000);
    this.closedShardTtlMs = checkMs('closedShardTtlMs', options.closedShardTtlMs, 0, 60000);
    this.minBackoffMs = checkMs('minBackoffMs', options.minBackoffMs, 1, 1000);
    this.maxBackoffMs = checkMs('maxBackoffMs', options.maxBackoffMs, this.minBackoffMs, Math.max(30000, this.minBackoffMs));
    this.backoffMs = this.minBackoffMs;
  }

  private readonly firstLoadSubject = new AsyncSubject<void>();

  /**
   * Emits once, then completes, when the first load is over: loaded, failed terminally, or the map
   * closed. Unlike `start()`'s Promise it runs on the scheduler, so it works under
   * `TestScheduler.run()`; the producer holds a new stream's first records until it emits.
   */
  readonly firstLoad$: Observable<void> = this.firstLoadSubject.asObservable();

  /** True once a snapshot is loaded (stays true through later refreshes and failures). */
  get ready(): boolean {
    return this.table !== undefined;
  }

  /** The terminal failure of the first load, if any; the map then does nothing more. */
  get failure(): ShardMapFailure | undefined {
    return this.terminal;
  }

  /** Scheduler time of the last successful load; `-Infinity` before the first. */
  get updatedAt(): number {
    return this.lastLoadAt;
  }

  /** Ids of the open shards of the current snapshot, ascending by ending hash key. */
  get openShardIds(): readonly string[] {
    return this.table?.shardIds ?? [];
  }

  /**
   * Starts loading (once) and resolves after the first successful load. Calling it again returns
   * the same promise.
   */
  start(): Promise<void> {
    if (this.started !== undefined) return this.started;
    this.started = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.started.catch(() => undefined); // observed here; the caller may still await it
    if (this.closed) this.settleStart(abortError());
    else if (this.table !== undefined) this.settleStart();
    else if (!this.loading) this.beginLoad();
    return this.started;
  }

  /**
   * The open shard owning a hash key, or `undefined` before the first load.
   *
   * @param hashKey - an integer in [0, 2^128−1].
   * @throws ValidationError when `hashKey` is not such a bigint.
   */
  predict(hashKey: bigint): string | undefined {
    if (typeof hashKey !== 'bigint' || hashKey < 0n || hashKey > MAX_HASH_KEY) {
      throw new ValidationError('hashKey', hashKey, 'a bigint in [0, 2^128-1]');
    }
    return this.predictKey(bigIntToHashKey(hashKey));
  }

  /**
   * The fast path of {@link ShardMap.predict}: the hash key as 16 big-endian bytes (as
   * `hashKeyOfPartitionKey` returns it). No BigInt, no allocation. Not checked: pass 16 bytes.
   */
  predictKey(hashKey: HashKey): string | undefined {
    return this.table === undefined ? undefined : lookupShard(this.table, hashKey);
  }

  /**
   * The inclusive hash-key range of an open shard, or of one that left the open set less than
   * `closedShardTtlMs` ago (so the Retrier can check where a record landed, kpl.md §8).
   */
  hashRange(shardId: string): { startingHashKey: bigint; endingHashKey: bigint } | undefined {
    const known = this.ranges.get(shardId);
    if (known === undefined) return undefined;
    if (known.closedAt !== undefined && this.scheduler.now() - known.closedAt >= this.closedShardTtlMs) return undefined;
    return { startingHashKey: known.startingHashKey, endingHashKey: known.endingHashKey };
  }

  /**
   * Asks for a refresh after a record did not land where predicted, with the KPL's debounce
   * (kpl.md §4): ignored unless `seenAt > updatedAt` (the request started after the last load),
   * absorbed by a load already running (or waiting out its backoff), and ignored when
   * `predictedShardId` is no longer open ("already refreshed").
   *
   * The Retrier passes the PutRecords request's START time and the PREDICTED shard (kpl.md §8; the
   * actual shard would defeat the guard, aiokpl.md §9 B2). When a record landed on a shard this map
   * does not know (a new child), call `invalidate(seenAt)` without a shard: that always refreshes
   * (subject to the time guard).
   *
   * Ignored before the first load (that load is already running), after a terminal failure and after close.
   */
  invalidate(seenAt: number, predictedShardId?: string): void {
    if (this.closed || this.table === undefined || this.loading) return;
    if (!(seenAt > this.lastLoadAt)) return;
    if (predictedShardId !== undefined && !this.openSet.has(predictedShardId)) return;
    this.beginLoad();
  }

  /**
   * Emits once, then completes, when the map holds a snapshot whose ListShards began at or after
   * `since` (scheduler ms) — at once if it already does. Otherwise a load is begun (or, when one that
   * began earlier is running, another one right after it), without the debounce of `invalidate`:
   * the caller has proof the map is behind (a PutRecords answered at `since` named a shard it does
   * not know). Loads are shared: one load answers every waiter whose `since` it covers.
   *
   * ```text
   * refreshedSince(30):  snapshot began at 10 ──► load begins at 30 ──► installed at 32 ──► (x|) at 32
   * ```
   *
   * - Completion: completes without a value when the map closes (or is closed) first, or failed for good.
   * - Unsubscribe: stops waiting (a load already begun goes on).
   *
   * @example map.refreshedSince(outcome.endedAt).subscribe({ complete: () => classifyAgain() })
   *
   * @param since - scheduler time the snapshot's load must not have begun before.
   * @returns an Observable of one `void`, or of none if the map can no longer load.
   */
  refreshedSince(since: number): Observable<void> {
    return new Observable<void>((subscriber) => {
      if (this.closed || this.terminal !== undefined) {
        subscriber.complete();
        return undefined;
      }
      if (this.table !== undefined && this.snapshotStartedAt >= since) {
        subscriber.next();
        subscriber.complete();
        return undefined;
      }
      const waiter = { since, subscriber };
      this.waiters.add(waiter);
      if (!this.loading) {
        if (this.table !== undefined) this.beginLoad();
        else this.start(); // the first load (a no-op when start() ran already)
      } else if (this.cycleStartedAt < since) {
        this.reloadWanted = true;
      }
      return () => {
        this.waiters.delete(waiter);
      };
    });
  }

  /** Cancels every timer and in-flight request. Idempotent. A pending `start()` rejects (`AbortError`). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.loading = false;
    for (const s of [this.request, this.retryTimer, this.refreshTimer, this.purgeTimer]) s?.unsubscribe();
    this.request = this.retryTimer = this.refreshTimer = this.purgeTimer = undefined;
    this.settleStart(abortError());
    this.releaseWaiters(() => true, false);
  }

  /** Completes the waiters `covered` picks: with a value when `loaded`, else without one. */
  private releaseWaiters(covered: (since: number) => boolean, loaded: boolean): void {
    for (const waiter of [...this.waiters]) {
      if (!covered(waiter.since)) continue;
      this.waiters.delete(waiter);
      if (loaded) waiter.subscriber.next();
      waiter.subscriber.complete();
    }
  }

  private beginLoad(): void {
    this.loading = true;
    this.refreshTimer?.unsubscribe();
    this.refreshTimer = undefined;
    this.requestPage(undefined, []);
  }

  private requestPage(nextToken: string | undefined, shards: ShardEntry[]): void {
    if (nextToken === undefined) this.cycleStartedAt = this.scheduler.now();
    const command = new ListShardsCommand(listShardsInput(this.streamName, nextToken, this.useFilter));
    const request = new Subscription();
    this.request = request;
    let answered = false;
    // A test client may answer synchronously, so the handlers may run before add() returns. defer()
    // is from() that also turns a synchronous throw of send() into a failed load.
    request.add(
      defer(() => this.client.send(command) as ObservableInput<ListShardsCommandOutput>)
        .pipe(take(1))
        .subscribe({
          next: (output) => {
            answered = true;
            this.onPage(output, nextToken, shards);
          },
          error: (err: unknown) => this.onFailure(err, nextToken === undefined),
          complete: () => {
            if (!answered) this.onFailure(Object.assign(new Error('ListShards gave no answer'), { name: 'NoAnswer' }), nextToken === undefined);
          },
        }),
    );
  }

  private onPage(output: ListShardsCommandOutput, token: string | undefined, shards: ShardEntry[]): void {
    if (this.closed) return;
    let page;
    try {
      page = readShardPage(output);
    } catch (err) {
      this.onFailure(err, token === undefined);
      return;
    }
    shards.push(...page.open);
    if (page.nextToken !== undefined) this.requestPage(page.nextToken, shards);
    else this.install(shards);
  }

  private onFailure(err: unknown, firstPage: boolean): void {
    if (this.closed) return;
    this.request = undefined;
    if (firstPage && this.useFilter && isShardFilterRejection(err)) {
      this.useFilter = false; // this server does not know ShardFilter: list everything, drop closed shards
      this.requestPage(undefined, []);
      return;
    }
    const errorCode = errorCodeOf(err);
    const errorMessage = errorMessageOf(err);
    if (this.table === undefined && TERMINAL_ON_FIRST_LOAD.has(errorCode)) {
      this.terminal = { errorCode, errorMessage };
      this.loading = false;
      this.settleStart(Object.assign(new Error(errorMessage), { name: errorCode }));
      this.releaseWaiters(() => true, false);
      return;
    }
    const base = this.backoffMs;
    this.backoffMs = Math.min(Math.floor((base * 3) / 2), this.maxBackoffMs);
    const r = Math.min(Math.max(Number(this.random()) || 0, 0), 1);
    this.retryTimer = this.scheduler.schedule(() => {
      this.retryTimer = undefined;
      this.requestPage(undefined, []); // restart from page 1 (kpl.md §4)
    }, Math.round(base * (1 - SHARD_MAP_BACKOFF_JITTER * r)));
  }

  private install(shards: readonly ShardEntry[]): void {
    const now = this.scheduler.now();
    const table = buildShardTable(shards);
    const open = new Set(table.shardIds);
    for (const id of this.openSet) {
      const known = this.ranges.get(id);
      if (!open.has(id) && known !== undefined) this.ranges.set(id, { ...known, closedAt: now });
    }
    for (const s of shards) {
      // A shard that reappears as open loses its closed marker.
      this.ranges.set(s.shardId, { startingHashKey: s.startingHashKey, endingHashKey: s.endingHashKey, closedAt: undefined });
    }
    this.table = table;
    this.openSet = open;
    this.lastLoadAt = now;
    this.snapshotStartedAt = this.cycleStartedAt;
    this.backoffMs = this.minBackoffMs;
    this.loading = false;
    this.request = undefined;
    this.armPurge(now);
    if (this.refreshIntervalMs > 0) {
      this.refreshTimer = this.scheduler.schedule(() => {
        this.refreshTimer = undefined;
        this.beginLoad();
      }, this.refreshIntervalMs);
    }
    this.settleStart();
    if (this.waiters.size > 0) {
      const began = this.snapshotStartedAt;
      this.releaseWaiters((since) => since <= began, true);
      // Someone waits for a load that began after this one did: begin it now (closed by a waiter? stop).
      if (this.reloadWanted && this.waiters.size > 0 && !this.closed && !this.loading) {
        this.reloadWanted = false;
        this.beginLoad();
      }
    }
    if (this.waiters.size === 0) this.reloadWanted = false;
  }

  /** One timer, due when the oldest closed shard's TTL runs out (the KPL's `cleanup()` thread, kpl.md §4). */
  private armPurge(now: number): void {
    this.purgeTimer?.unsubscribe();
    this.purgeTimer = undefined;
    let due = Number.POSITIVE_INFINITY;
    for (const [id, known] of this.ranges) {
      if (known.closedAt === undefined) continue;
      const at = known.closedAt + this.closedShardTtlMs;
      if (at <= now) this.ranges.delete(id);
      else due = Math.min(due, at);
    }
    if (due !== Number.POSITIVE_INFINITY) {
      this.purgeTimer = this.scheduler.schedule(() => this.armPurge(this.scheduler.now()), due - now);
    }
  }

  private settleStart(err?: Error): void {
    if (!this.firstLoadSubject.closed) {
      this.firstLoadSubject.next();
      this.firstLoadSubject.complete();
    }
    const settle = this.settle;
    if (settle === undefined) return;
    this.settle = undefined;
    if (err === undefined) settle.resolve();
    else settle.reject(err);
  }
}

function abortError(): Error {
  return Object.assign(new Error('the ShardMap was closed before its first load'), { name: 'AbortError' });
}
