import fc from 'fast-check';
import { TestScheduler } from 'rxjs/testing';
import { createReducer, type Reducer, type ReducerBatch, type ReducerContainer } from '../../../lib/operators/internal/reducer';
import { item, weightContainer, type Item } from '../../helpers/batching-records';

const ids = (batches: readonly ReducerBatch<Item>[]): string[][] => batches.map((b) => b.items.map((i) => i.id));

function setup(countLimit: number, sizeLimit: number, extra: { flushPredicate?: (i: Item, c: ReducerContainer<Item>) => boolean } = {}) {
  const scheduler = new TestScheduler(() => undefined);
  const fired: ReducerBatch<Item>[][] = [];
  const reducer: Reducer<Item> = createReducer<Item, ReducerContainer<Item>>({
    countLimit,
    sizeLimit,
    newContainer: weightContainer,
    scheduler,
    onDeadline: (batches) => fired.push(batches),
    ...extra,
  });
  return { scheduler, fired, reducer };
}

describe('createReducer', () => {
  describe('packing (aiokpl.md §8.5 items 2–3, kpl.md §5)', () => {
    it('packs in deadline order and keeps what does not fit, with its deadline', () => {
      const { reducer } = setup(100, 10);
      expect(reducer.add(item('30', 30, 4))).toEqual([]);
      expect(reducer.add(item('10', 10, 4))).toEqual([]);
      const out = reducer.add(item('20', 20, 4)); // 12 ≥ 10: flush; 4 + 4 fit, the third would make 12
      expect(ids(out)).toEqual([['10', '20']]);
      expect(out[0].size).toBe(8);
      expect(reducer.count).toBe(1);
      expect(reducer.timerDue).toBe(30); // re-armed at the remainder's deadline
    });

    it('sends a lone oversize item alone', () => {
      const { reducer } = setup(100, 5);
      expect(ids(reducer.add(item('big', 10, 999)))).toEqual([['big']]);
      expect(reducer.count).toBe(0);
      expect(reducer.timerDue).toBeUndefined();
    });

    it('sends an earlier-deadline oversize item alone and keeps the pending one', () => {
      const { reducer } = setup(100, 5);
      reducer.add(item('small', 20, 1));
      expect(ids(reducer.add(item('big', 10, 999)))).toEqual([['big']]);
      expect(reducer.count).toBe(1);
      expect(reducer.timerDue).toBe(20);
    });

    it('sends the pending items and then a later-deadline oversize item alone', () => {
      const { reducer } = setup(100, 5);
      reducer.add(item('small', 10, 1));
      expect(ids(reducer.add(item('big', 20, 999)))).toEqual([['small'], ['big']]);
      expect(reducer.count).toBe(0);
    });

    it('closes on the add that reaches the count limit (>=)', () => {
      const { reducer } = setup(2, 1000);
      expect(reducer.add(item('a', 10))).toEqual([]);
      expect(ids(reducer.add(item('b', 10)))).toEqual([['a', 'b']]);
      expect(reducer.timerDue).toBeUndefined();
    });

    it('closes on the add that reaches the size limit exactly and sends both', () => {
      const { reducer } = setup(100, 6);
      reducer.add(item('a', 10, 3));
      expect(ids(reducer.add(item('b', 10, 3)))).toEqual([['a', 'b']]);
    });

    it('sends the first and keeps the second when 3 + 3 passes a limit of 5', () => {
      const { reducer } = setup(100, 5);
      reducer.add(item('a', 10, 3));
      expect(ids(reducer.add(item('b', 10, 3)))).toEqual([['a']]);
      expect(reducer.count).toBe(1);
      expect(reducer.timerDue).toBe(10);
    });

    it('packs again while the remainder is still full', () => {
      const { reducer } = setup(100, 10);
      reducer.add(item('a', 10, 4));
      reducer.add(item('c', 30, 4));
      // 16 ≥ 10; order a(4) b(8) c(4): [a], then b + c = 12 ≥ 10 → [b], [c] stays
      expect(ids(reducer.add(item('b', 20, 8)))).toEqual([['a'], ['b']]);
      expect(reducer.count).toBe(1);
      expect(reducer.timerDue).toBe(30);
    });

    it('keeps ties in arrival order', () => {
      const { reducer } = setup(100, 1000);
      reducer.add(item('x', 20));
      reducer.add(item('a', 10));
      reducer.add(item('b', 10));
      reducer.add(item('c', 10));
      expect(ids(reducer.flush())).toEqual([['a', 'b', 'c', 'x']]);
    });

    it('flushes everything into as many batches as the limits need, and cancels the timer', () => {
      const { reducer } = setup(2, 1000);
      reducer.add(item('c', 30));
      const first = reducer.add(item('b', 20));
      expect(ids(first)).toEqual([['b', 'c']]);
      reducer.add(item('a', 10));
      expect(reducer.timerDue).toBe(10);
      expect(ids(reducer.flush())).toEqual([['a']]);
      expect(reducer.timerDue).toBeUndefined();
      expect(reducer.flush()).toEqual([]);
    });
  });

  describe('the predicate', () => {
    it('closes a batch when it matches the just-added item', () => {
      const seen: string[] = [];
      const { reducer } = setup(100, 1000, {
        flushPredicate: (i, c) => {
          seen.push(`${i.id}:${c.count}`);
          return i.id === 'go';
        },
      });
      reducer.add(item('a', 10));
      expect(ids(reducer.add(item('go', 20)))).toEqual([['a', 'go']]);
      expect(seen).toEqual(['a:1', 'go:2']);
    });
  });

  describe('the timer', () => {
    it('is armed at the earliest deadline and only moves earlier on an add (aiokpl.md §8.5 item 1)', () => {
      const { reducer, scheduler, fired } = setup(100, 1000);
      reducer.add(item('late', 500));
      expect(reducer.timerDue).toBe(500);
      reducer.add(item('early', 10));
      expect(reducer.timerDue).toBe(10);
      reducer.add(item('mid', 300));
      expect(reducer.timerDue).toBe(10);
      scheduler.flush();
      expect(fired.map(ids)).toEqual([[['early', 'mid', 'late']]]); // one batch holds all three
      expect(scheduler.now()).toBe(10);
    });

    it('clamps a deadline to the expiration', () => {
      const { reducer } = setup(100, 1000);
      reducer.add(item('a', 100, 1, 40));
      expect(reducer.timerDue).toBe(40);
    });

    it('sorts out-of-order items before packing, then arms for the next ones', () => {
      const { reducer, scheduler, fired } = setup(100, 10);
      reducer.add(item('a', 10, 6));
      reducer.add(item('b', 50, 3));
      // A sort is needed: c's deadline is earlier than b's, so the live items are out of order.
      reducer.add(item('c', 20, 1)); // 10 ≥ 10: all fit (6 + 1 + 3 = 10) → one batch
      expect(reducer.count).toBe(0);
      reducer.add(item('d', 60, 6));
      reducer.add(item('e', 70, 3));
      scheduler.flush();
      expect(fired.map(ids)).toEqual([[['d', 'e']]]);
      expect(scheduler.now()).toBe(60);
    });

    it('hands the batches over with the state already reset, so onDeadline may add again', () => {
      const scheduler = new TestScheduler(() => undefined);
      const log: string[] = [];
      const reducer: Reducer<Item> = createReducer<Item, ReducerContainer<Item>>({
        countLimit: 100,
        sizeLimit: 1000,
        newContainer: weightContainer,
        scheduler,
        onDeadline: (batches) => {
          log.push(`fired ${ids(batches).join('|')} count ${reducer.count}`);
          if (log.length === 1) reducer.add(item('again', 25));
        },
      });
      reducer.add(item('a', 5));
      scheduler.flush();
      expect(log).toEqual(['fired a count 0', 'fired again count 0']);
      expect(scheduler.now()).toBe(25);
    });

    it('is cancelled by close, which drops the items and may be called twice', () => {
      const { reducer, scheduler, fired } = setup(100, 1000);
      reducer.add(item('a', 10));
      reducer.close();
      reducer.close();
      expect(reducer.timerDue).toBeUndefined();
      expect(reducer.count).toBe(0);
      scheduler.flush();
      expect(fired).toEqual([]);
    });
  });

  describe('properties', () => {
    const arbItem = fc.record({
      weight: fc.integer({ min: 1, max: 40 }),
      deadline: fc.integer({ min: 0, max: 50 }),
      expiration: fc.integer({ min: 0, max: 80 }),
    });

    it('never exceeds a limit except with one item, loses nothing, packs earliest deadlines first and reports the earliest deadline and expiration', () => {
      fc.assert(
        fc.property(
          fc.array(arbItem, { maxLength: 60 }),
          fc.integer({ min: 1, max: 8 }),
          fc.integer({ min: 1, max: 100 }),
          (specs, countLimit, sizeLimit) => {
            const { reducer } = setup(countLimit, sizeLimit);
            const live = new Set<string>();
            const out: string[] = [];
            specs.forEach((s, n) => {
              const it = item(String(n), s.deadline, s.weight, s.expiration);
              live.add(it.id);
              for (const batch of reducer.add(it)) {
                if (batch.items.length > 1) {
                  expect(batch.items.length).toBeLessThanOrEqual(countLimit);
                  expect(batch.size).toBeLessThanOrEqual(sizeLimit);
                }
                expect(batch.size).toBe(batch.items.reduce((t, i) => t + i.weight, 0));
                const ds = batch.items.map((i) => Math.min(i.deadline, i.expiration));
                expect(batch.deadline).toBe(Math.min(...ds));
                expect(batch.expiration).toBe(Math.min(...batch.items.map((i) => i.expiration)));
                expect(ds).toEqual([...ds].sort((a, b) => a - b));
                for (const i of batch.items) live.delete(i.id);
                // what stays never has an earlier deadline than what went
                const latestSent = Math.max(...ds);
                for (const id of live) {
                  const spec = specs[Number(id)];
                  expect(Math.min(spec.deadline, spec.expiration)).toBeGreaterThanOrEqual(latestSent);
                }
                out.push(...batch.items.map((i) => i.id));
              }
              expect(reducer.count).toBe(live.size);
            });
            for (const batch of reducer.flush()) out.push(...batch.items.map((i) => i.id));
            expect(out.sort()).toEqual(specs.map((_, n) => String(n)).sort());
          },
        ),
        { numRuns: 300 },
      );
    });

    it('hands out with every batch a container holding exactly its items, in order, when the container can undo an add', () => {
      /** Remembers its items, so a batch's container can be compared with the batch. */
      const listContainer = (): ReducerContainer<Item> & { readonly ids: string[] } => {
        const items: Item[] = [];
        const size = (): number => items.reduce((t, i) => t + i.weight, 0);
        return {
          get ids() {
            return items.map((i) => i.id);
          },
          get count() {
            return items.length;
          },
          get size() {
            return size();
          },
          sizeIfAdded: (i) => size() + i.weight,
          add: (i) => void items.push(i),
          removeLast: () => void items.pop(),
        };
      };
      fc.assert(
        fc.property(
          fc.array(arbItem, { maxLength: 60 }),
          fc.integer({ min: 1, max: 8 }),
          fc.integer({ min: 1, max: 100 }),
          (specs, countLimit, sizeLimit) => {
            const scheduler = new TestScheduler(() => undefined);
            const reducer = createReducer<Item, ReturnType<typeof listContainer>>({
              countLimit,
              sizeLimit,
              newContainer: listContainer,
              scheduler,
              onDeadline: () => undefined,
            });
            const check = (batches: readonly ReducerBatch<Item>[]): void => {
              for (const batch of batches) {
                const container = batch.container as ReturnType<typeof listContainer> | undefined;
                expect(container?.ids).toEqual(batch.items.map((i) => i.id));
              }
            };
            specs.forEach((s, n) => check(reducer.add(item(String(n), s.deadline, s.weight, s.expiration))));
            check(reducer.flush());
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});
