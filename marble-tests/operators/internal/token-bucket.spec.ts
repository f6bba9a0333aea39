import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { createTokenBucket } from '../../../lib/operators/internal/token-bucket';

describe('TokenBucket on virtual time', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  it('lets one token a second through at 1/s, the next exactly one second later', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const bucket = createTokenBucket({ streams: [{ capacity: 1, ratePerSecond: 1 }], scheduler });
      const tries = hot('  t 499ms t 499ms t 999ms t');
      const expected = '   y 499ms n 499ms y 999ms y';
      //                   0: full → taken; 500: 0.5 → refused; 1000: 1 → taken; 2000: 1 → taken

      expectObservable(tries.pipe(map(() => (bucket.tryTake([1]) ? 'y' : 'n')))).toBe(expected);
    });
  });

  it('refills to capacity and no further', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const bucket = createTokenBucket({ streams: [{ capacity: 2, ratePerSecond: 1 }], scheduler });
      const tries = hot('  e 9999ms t t t');
      const expected = '   e 9999ms y y n';
      //                   e empties it at 0; 10 s later it holds 2 (not 10): two takes, then none

      const result = tries.pipe(map((c) => (c === 'e' ? (bucket.tryTake([2]), 'e') : bucket.tryTake([1]) ? 'y' : 'n')));
      expectObservable(result).toBe(expected);
    });
  });

  it('changes nothing on a failed all-or-nothing take', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const bucket = createTokenBucket({
        streams: [
          { capacity: 1, ratePerSecond: 1 },
          { capacity: 100, ratePerSecond: 100 },
        ],
        scheduler,
      });
      const tries = hot('  b 499ms r');
      const expected = '   y 499ms n';
      //                   b takes 1 + 100 at 0; at 500: records 0.5 (short), bytes 50 (enough) → nothing taken
      expectObservable(tries.pipe(map((c) => (bucket.tryTake(c === 'b' ? [1, 100] : [1, 10]) ? 'y' : 'n')))).toBe(expected);
      scheduler.schedule(() => {
        expect(bucket.available(0)).toBe(0.5);
        expect(bucket.available(1)).toBe(50);
      }, 500);
    });
  });

  it('tells a timer how long to wait: scheduled at msUntil, the take succeeds', () => {
    scheduler.run(({ expectObservable, cold }) => {
      const bucket = createTokenBucket({ streams: [{ capacity: 4, ratePerSecond: 8 }], scheduler });
      bucket.tryTake([4]);
      const wait = bucket.msUntil([3]); // 3 / 8 per s = 375 ms
      expect(wait).toBe(375);
      const result = cold(`${wait}ms t`).pipe(map(() => (bucket.tryTake([3]) ? 'y' : 'n')));
      expectObservable(result).toBe('375ms y');
    });
  });
});
