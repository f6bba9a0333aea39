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
}

/** One closed batch: its items in deadline order and their exact size. */
export interface ReducerBatch<T> {
  readonly items: T[];
  readonly size: number;
}

export interface ReducerOptions<T extends Timed, C extends ReducerContainer<T>> {
  /** A batch closes as soon as it holds this many items (≥ 1). */
  readonly countLimit: number;
  /** A batch closes as soon as its size is ≥ this; packed batches are ≤ this unless one item is larger. */
  readonly sizeLimit: number;
  /** A fresh, empty container. Called once per batch, never per item. */
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
 * Creates a reducer. The caller emits what `add` and `flush` return, and what the timer hands to
 * `onDeadline`.
 */
export function createReducer<T extends Timed, C extends ReducerContainer<T>>(options: ReducerOptions<T, C>): Reducer<T> {
  const { countLimit, sizeLimit, newContainer, flushPredicate, scheduler, onDeadline } = options;
  let items: T[] = [];
  let container = newContainer();
  let minDeadline = Infinity;
  let maxDeadline = -Infinity;
  /** Items were added in deadline order, so packing needs no sort. */
  let sorted = true;
  let timer: Subscription | null = null;
  let timerAt = Infinity;

  const isFull = (): boolean => container.count >= countLimit || container.size >= sizeLimit;

  /** The whole live container as a batch; state is reset before anyone sees the batch. */
  function takeAll(): ReducerBatch<T> {
    const batch: ReducerBatch<T> = { items, size: container.size };
    items = [];
    container = newContainer();
    minDeadline = Infinity;
    maxDeadline = -Infinity;
    sorted = true;
    return batch;
  }

  /** One batch: the items in deadline order up to the limits; the rest stays live. */
  function packOne(): ReducerBatch<T> {
    if (sorted && container.count <= countLimit && container.size <= sizeLimit) return takeAll();
    const all = sorted ? items : items.sort(byDeadline); // Array#sort is stable: ties stay FIFO
    const packed = newContainer();
    let n = 0;
    // The first item always goes in, so a lone oversize item leaves alone (kpl.md §2, GiantRecord).
    while (n < all.length && (n === 0 || (n < countLimit && packed.sizeIfAdded(all[n]) <= sizeLimit))) {
      packed.add(all[n]);
      n++;
    }
    const rest = all.slice(n);
    all.length = n;
    items = rest;
    container = newContainer();
    minDeadline = Infinity;
    maxDeadline = -Infinity;
    sorted = true;
    for (const item of rest) {
      container.add(item);
      const d = deadlineOf(item);
      if (d < minDeadline) minDeadline = d;
      if (d > maxDeadline) maxDeadline = d;
    }
    return { items: all, size: packed.size };
  }

  function cancelTimer(): void {
    timer?.unsubscribe();
    timer = null;
    timerAt = Infinity;
  }

  function arm(at: number): void {
    timerAt = at;
    timer = scheduler.schedule(onTimer, Math.max(0, at - scheduler.now()));
  }

  /** After a flush the timer follows the remainder's earliest deadline, earlier or later. */
  function followRemainder(): void {
    if (items.length === 0) cancelTimer();
    else if (timer === null || timerAt !== minDeadline) {
      cancelTimer();
      arm(minDeadline);
    }
  }

  function onTimer(): void {
    timer = null;
    timerAt = Infinity;
    if (items.length === 0) return;
    const now = scheduler.now();
    const batches: ReducerBatch<T>[] = [];
    do batches.push(packOne());
    while (items.length > 0 && minDeadline <= now);
    if (items.length > 0) arm(minDeadline);
    onDeadline(batches);
  }

  function add(item: T): readonly ReducerBatch<T>[] {
    const d = deadlineOf(item);
    let out: ReducerBatch<T>[] | undefined;
    // Fast path, same result as add-then-pack: an in-order item that does not fit would be the
    // first item left out, so the batch is exactly the current items and no repacking is needed.
    if (items.length > 0 && sorted && d >= maxDeadline && container.sizeIfAdded(item) > sizeLimit) {
      out = [takeAll()];
    }
    items.push(item);
    container.add(item);
    if (d < minDeadline) minDeadline = d;
    if (d >= maxDeadline) maxDeadline = d;
    else sorted = false;
    if (out === undefined && (isFull() || (flushPredicate !== undefined && flushPredicate(item, container)))) {
      out = [packOne()];
    }
    if (out === undefined) {
      // The timer only ever moves earlier on an add (kpl.md §5 set_deadline).
      if (minDeadline < timerAt) {
        cancelTimer();
        arm(minDeadline);
      }
      return NONE;
    }
    while (items.length > 0 && isFull()) out.push(packOne());
    followRemainder();
    return out;
  }

  function flush(): ReducerBatch<T>[] {
    const batches: ReducerBatch<T>[] = [];
    while (items.length > 0) batches.push(packOne());
    cancelTimer();
    return batches;
  }

  function close(): void {
    cancelTimer();
    items = [];
    container = newContainer();
    minDeadline = Infinity;
    maxDeadline = -Infinity;
    sorted = true;
  }

  return {
    add,
    flush,
    close,
    get count() {
      return items.length;
    },
    get timerDue() {
      return timer === null ? undefined : timerAt;
    },
  };
}
