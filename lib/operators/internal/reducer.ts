/**
 * The deadline-driven batcher behind `aggregateByShard` and `collectBatches`: the KPL's
 * `Reducer<T, U>` (kpl.md §5, `aws/kinesis/core/reducer.h`). Generic: no Kinesis type inside, so
 * the stage-3 window operators can reuse it (ROADMAP.md).
 *
 * Departures from the KPL, each on purpose:
 * - Sizes are exact, never estimated: the container says what a set of items measures
 *   (`sizeIfAdded`), since an aggregated record's size is not a sum (key tables are shared,
 *   kpl.md §2). The KPL triggers on an estimate and trims on the accurate size.
 * - After a count/size flush the remainder is packed again while it is still full (the KPL leaves
 *   an over-full remainder until the next add or the timer).
 * - The timer may fire a little early on a real clock; a fire always packs at least one batch.
 *
 * What it keeps from the KPL (and aiokpl's tests, aiokpl.md §8.5 items 1–4): `>=` limits; a flush
 * packs the items in deadline order (stable, so ties stay FIFO) up to the limits and keeps the
 * rest, with their deadlines; a lone item over the size limit goes out alone; one timer that an
 * add only ever moves earlier (aiokpl's moved later too, aiokpl.md §9 D4).
 *
 * Worked example (count limit 10, size limit 10, sizes 4/4/4 with deadlines 30/10/20 added at 0):
 * the third add makes size 12 ≥ 10, so the items are ordered 10, 20, 30 and packed: 10 (4),
 * 20 (8), 30 would make 12 > 10, so the batch is [10, 20] and [30] stays, timer re-armed at 30.
 */
import type { SchedulerLike, Subscription } from 'rxjs';

/** What the reducer reads from an item: when it should go out, and when it expires. */
export interface Timed {
  /** Send at the latest at this time (scheduler ms). Clamped to `expiration` when read. */
  readonly deadline: number;
  readonly expiration: number;
}

/** Measures a set of items exactly (an aggregated record, a PutRecords request). */
export interface ReducerContainer<T> {
  /** Items added so far. */
  readonly count: number;
  /** Exact size of the items added so far. */
  readonly size: number;
  /** What `size` would be with this item added (nothing changes). */
  sizeIfAdded(item: T): number;
  add(item: T): void;
  /**
   * Optional: undoes the last `add`. Given, a batch closed just before the item that went over the
   * size limit keeps this container (so {@link ReducerBatch.container} describes it) instead of none.
   */
  removeLast?(): void;
}

/** One closed batch: its items in deadline order, their exact size, earliest deadline and expiration. */
export interface ReducerBatch<T> {
  readonly items: T[];
  readonly size: number;
  /** The earliest (clamped) deadline of the items. */
  readonly deadline: number;
  /** The earliest expiration of the items. */
  readonly expiration: number;
  /**
   * A container holding exactly `items`, in order, when the reducer has one (e.g. an aggregated
   * record already staged item by item); `undefined` otherwise.
   */
  readonly container: ReducerContainer<T> | undefined;
}

export interface ReducerOptions<T extends Timed, C extends ReducerContainer<T>> {
  /** A batch closes as soon as it holds this many items (≥ 1). */
  readonly countLimit: number;
  /** A batch closes as soon as its size is ≥ this; packed batches are ≤ this unless one item is larger. */
  readonly sizeLimit: number;
  /** A fresh, empty container. Called when a batch gets its first item (and when packing a batch out of order), never per item. */
  readonly newContainer: () => C;
  /** Consulted after each add that triggers no other flush: true packs a batch now. */
  readonly flushPredicate?: (item: T, container: C) => boolean;
  readonly scheduler: SchedulerLike;
  /** Receives what the timer closed (never empty). The reducer's state is already updated. */
  readonly onDeadline: (batches: ReducerBatch<T>[]) => void;
}

export interface Reducer<T> {
  /** Adds an item; returns the batches this add closed (usually none), synchronously. */
  add(item: T): readonly ReducerBatch<T>[];
  /** Packs everything buffered into batches now and cancels the timer. */
  flush(): ReducerBatch<T>[];
  /** Items buffered. */
  readonly count: number;
  /** When the timer is due (scheduler ms), or `undefined` when none is armed. */
  readonly timerDue: number | undefined;
  /** Cancels the timer and drops the buffered items. Idempotent. */
  close(): void;
}

const NONE: readonly ReducerBatch<never>[] = Object.freeze([]);

/** A deadline is never past the expiration (the KPL's `set_deadline` clamp, kpl.md §5). */
function deadlineOf(item: Timed): number {
  return item.deadline < item.expiration ? item.deadline : item.expiration;
}

function byDeadline(a: Timed, b: Timed): number {
  const x = deadlineOf(a);
  const y = deadlineOf(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Creates a deadline reducer. The caller emits what `add` and `flush` return, and what the timer
 * hands to `onDeadline`; it calls `close` when its subscriber goes away.
 *
 * ```text
 * add:     a(dl 11) b(dl 13)                c(dl 25)   flush()
 * batches:                   [a, b] at 11                [c]        (limits not reached)
 * ```
 *
 * - Nothing is emitted by the reducer itself except through `onDeadline`, from the timer.
 * - `close` cancels the timer and drops what is buffered; `flush` cancels the timer.
 *
 * @example
 * ```ts
 * const reducer = createReducer({ countLimit: 500, sizeLimit: 5242880, newContainer, scheduler, onDeadline: emitAll });
 * emitAll(reducer.add(record));
 * ```
 *
 * @param options - the limits, the container factory, the predicate, the scheduler and the sink.
 * @returns a {@link Reducer}.
 */
export function createReducer<T extends Timed, C extends ReducerContainer<T>>(options: ReducerOptions<T, C>): Reducer<T> {
  return new DeadlineReducer(options);
}

/**
 * A class rather than closures: one shape and prototype methods, so the per-item `add` stays
 * monomorphic and inlinable however many reducers exist (one per shard).
 */
class DeadlineReducer<T extends Timed, C extends ReducerContainer<T>> implements Reducer<T> {
  private readonly countLimit: number;
  private readonly sizeLimit: number;
  private readonly newContainer: () => C;
  private readonly flushPredicate: ((item: T, container: C) => boolean) | undefined;
  private readonly scheduler: SchedulerLike;
  private readonly onDeadline: (batches: ReducerBatch<T>[]) => void;
  private readonly fire: () => void;

  private items: T[] = [];
  /**
   * The container of `items`; null exactly when `items` is empty, so it is taken from
   * `newContainer` at the first add (a reducer dropped or closed while empty holds none, and an
   * emptied batch's container can be handed back and reused by the caller).
   */
  private container: C | null = null;
  private minDeadline = Infinity;
  private maxDeadline = -Infinity;
  private minExpiration = Infinity;
  /** Items were added in deadline order, so packing needs no sort. */
  private sorted = true;
  private timer: Subscription | null = null;
  private timerAt = Infinity;

  constructor(options: ReducerOptions<T, C>) {
    this.countLimit = options.countLimit;
    this.sizeLimit = options.sizeLimit;
    this.newContainer = options.newContainer;
    this.flushPredicate = options.flushPredicate;
    this.scheduler = options.scheduler;
    this.onDeadline = options.onDeadline;
    this.fire = () => this.onTimer();
  }

  get count(): number {
    return this.items.length;
  }

  get timerDue(): number | undefined {
    return this.timer === null ? undefined : this.timerAt;
  }

  add(item: T): readonly ReducerBatch<T>[] {
    const d = deadlineOf(item);
    let container = this.container;
    if (container === null) this.container = container = this.newContainer();
    const sizeBefore = container.size;
    const expirationBefore = this.minExpiration;
    this.items.push(item);
    container.add(item);
    if (d < this.minDeadline) this.minDeadline = d;
    if (d >= this.maxDeadline) this.maxDeadline = d;
    else this.sorted = false;
    if (item.expiration < this.minExpiration) this.minExpiration = item.expiration;

    let out: ReducerBatch<T>[] | undefined;
    if (
      container.size > this.sizeLimit &&
      this.sorted &&
      this.items.length > 1 &&
      sizeBefore <= this.sizeLimit &&
      this.items.length <= this.countLimit + 1
    ) {
      // Fast path, same result as packing: the item that went over is last in deadline order, so
      // it is the first one left out, and the batch is exactly the items before it, which fit.
      out = [this.splitOffLast(item, d, sizeBefore, expirationBefore)];
    } else if (this.isFull() || (this.flushPredicate !== undefined && this.flushPredicate(item, container))) {
      out = [this.packOne()];
    }
    if (out === undefined) {
      // The timer only ever moves earlier on an add (kpl.md §5 set_deadline).
      if (this.minDeadline < this.timerAt) {
        this.cancelTimer();
        this.arm(this.minDeadline);
      }
      return NONE;
    }
    while (this.items.length > 0 && this.isFull()) out.push(this.packOne());
    this.followRemainder();
    return out;
  }

  flush(): ReducerBatch<T>[] {
    const batches: ReducerBatch<T>[] = [];
    while (this.items.length > 0) batches.push(this.packOne());
    this.cancelTimer();
    return batches;
  }

  close(): void {
    this.cancelTimer();
    this.reset([]);
  }

  /** The container of the live items (only called while there are some). */
  private live(): C {
    return this.container as C;
  }

  private isFull(): boolean {
    const container = this.live();
    return container.count >= this.countLimit || container.size >= this.sizeLimit;
  }

  /** Makes `items` the live set, with a fresh container holding them (none when empty). */
  private reset(items: T[]): void {
    this.items = items;
    const container = items.length === 0 ? null : this.newContainer();
    this.container = container;
    this.minDeadline = Infinity;
    this.maxDeadline = -Infinity;
    this.minExpiration = Infinity;
    this.sorted = true;
    for (const item of items) {
      (container as C).add(item);
      const d = deadlineOf(item);
      if (d < this.minDeadline) this.minDeadline = d;
      if (d > this.maxDeadline) this.maxDeadline = d;
      if (item.expiration < this.minExpiration) this.minExpiration = item.expiration;
    }
  }

  /** Everything but the last item as a batch; the last item starts the next one. */
  private splitOffLast(last: T, lastDeadline: number, sizeBefore: number, expiration: number): ReducerBatch<T> {
    const items = this.items;
    items.pop();
    const previous = this.live();
    let container: ReducerContainer<T> | undefined;
    if (previous.removeLast !== undefined) {
      previous.removeLast();
      container = previous;
    }
    // Deadlines are in order, so the batch's earliest is its first item's.
    const batch: ReducerBatch<T> = { items, size: sizeBefore, deadline: this.minDeadline, expiration, container };
    this.items = [last];
    const next = this.newContainer();
    next.add(last);
    this.container = next;
    this.minDeadline = lastDeadline;
    this.maxDeadline = lastDeadline;
    this.minExpiration = last.expiration;
    this.sorted = true;
    return batch;
  }

  /** One batch: the items in deadline order up to the limits; the rest stays live. */
  private packOne(): ReducerBatch<T> {
    const { countLimit, sizeLimit } = this;
    const container = this.live();
    if (this.sorted && container.count <= countLimit && container.size <= sizeLimit) {
      // The whole live set; state is reset before anyone sees the batch.
      const batch: ReducerBatch<T> = {
        items: this.items,
        size: container.size,
        deadline: this.minDeadline,
        expiration: this.minExpiration,
        container,
      };
      this.reset([]);
      return batch;
    }
    const all = this.sorted ? this.items : this.items.sort(byDeadline); // Array#sort is stable: ties stay FIFO
    const packed = this.newContainer();
    let n = 0;
    let expiration = Infinity;
    // The first item always goes in, so a lone oversize item leaves alone (kpl.md §2, GiantRecord).
    while (n < all.length && (n === 0 || (n < countLimit && packed.sizeIfAdded(all[n]) <= sizeLimit))) {
      packed.add(all[n]);
      if (all[n].expiration < expiration) expiration = all[n].expiration;
      n++;
    }
    const rest = all.slice(n);
    all.length = n;
    this.reset(rest);
    return { items: all, size: packed.size, deadline: deadlineOf(all[0]), expiration, container: packed };
  }

  private cancelTimer(): void {
    this.timer?.unsubscribe();
    this.timer = null;
    this.timerAt = Infinity;
  }

  private arm(at: number): void {
    this.timerAt = at;
    this.timer = this.scheduler.schedule(this.fire, Math.max(0, at - this.scheduler.now()));
  }

  /** After a flush the timer follows the remainder's earliest deadline, earlier or later. */
  private followRemainder(): void {
    if (this.items.length === 0) this.cancelTimer();
    else if (this.timer === null || this.timerAt !== this.minDeadline) {
      this.cancelTimer();
      this.arm(this.minDeadline);
    }
  }

  private onTimer(): void {
    this.timer = null;
    this.timerAt = Infinity;
    if (this.items.length === 0) return;
    const now = this.scheduler.now();
    const batches: ReducerBatch<T>[] = [];
    do batches.push(this.packOne());
    while (this.items.length > 0 && this.minDeadline <= now);
    if (this.items.length > 0) this.arm(this.minDeadline);
    this.onDeadline(batches);
  }
}
