import { TestScheduler } from 'rxjs/testing';
import { item, reduceItems, type Item } from '../../../spec/helpers/batching-records';

describe('createReducer (timing)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  it('closes a batch at the deadline of its first item', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-----------c-|', { a: item('a', 11), b: item('b', 13), c: item('c', 25) });
      const subs = '      ^----------------!';
      const expected = '  -----------x-----(y|)';
      //                   a arrives at 1 with deadline 1 + 10 = 11; c waits for completion at 17
      expectObservable(source.pipe(reduceItems({ scheduler }))).toBe(expected, { x: 'ab', y: 'c' });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('moves the timer earlier when an earlier-deadline item arrives', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-b----------------|', { a: item('a', 20), b: item('b', 6) });
      const expected = '  ------x-------------|';
      //                   a due at 20; b (at 3) is due at 6: the batch goes at 6 with both
      expectObservable(source.pipe(reduceItems({ scheduler }))).toBe(expected, { x: 'ba' });
    });
  });

  it('never moves the timer later', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-b----------------|', { a: item('a', 6), b: item('b', 20) });
      const expected = '  ------x-------------|';
      //                   a due at 6; b (due 20) does not delay it and rides along
      expectObservable(source.pipe(reduceItems({ scheduler }))).toBe(expected, { x: 'ab' });
    });
  });

  it('closes a batch at once when the count limit is reached', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-b-c------|', { a: item('a', 50), b: item('b', 50), c: item('c', 50) });
      const expected = '  ---x--------(y|)';
      //                   2 items: closed at 3, not at 50
      expectObservable(source.pipe(reduceItems({ scheduler, countLimit: 2 }))).toBe(expected, { x: 'ab', y: 'c' });
    });
  });

  it('closes a batch at once when the size limit is reached, and keeps the latest deadline', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-b-c--------------------------|', {
        a: item('a', 30, 4),
        b: item('b', 10, 4),
        c: item('c', 20, 4),
      });
      const expected = '  -----x------------------------y-|';
      //                   at 5: 4+4+4 = 12 ≥ 10 → [b(10), c(20)]; a (deadline 30) waits for 30
      expectObservable(source.pipe(reduceItems({ scheduler, sizeLimit: 10 }))).toBe(expected, { x: 'bc', y: 'a' });
    });
  });

  it('sends a lone oversize item alone, at once', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-B-------------------|', { a: item('a', 20, 1), B: item('B', 10, 999) });
      const expected = '  ---x----------------y--|';
      //                   B (999 > 5) leaves at 3; a keeps its deadline 20
      expectObservable(source.pipe(reduceItems({ scheduler, sizeLimit: 5 }))).toBe(expected, {
        x: 'B',
        y: 'a',
      });
    });
  });

  it('emits nothing for an empty source', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold<Item>('|').pipe(reduceItems({ scheduler }))).toBe('|');
    });
  });

  it('never emits for a source that never emits', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold<Item>('-').pipe(reduceItems({ scheduler }))).toBe('-');
    });
  });

  it('passes an error on and drops what is buffered', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a--#', { a: item('a', 10) });
      expectObservable(source.pipe(reduceItems({ scheduler }))).toBe('----#');
    });
  });

  it('fires nothing after an early unsubscribe', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-------------|', { a: item('a', 10) });
      const unsub = '     ^----!';
      const expected = '  ------';
      //                   unsubscribed at 5, before a's deadline at 10: nothing ever fires
      expectObservable(source.pipe(reduceItems({ scheduler })), unsub).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(unsub);
    });
  });
});
