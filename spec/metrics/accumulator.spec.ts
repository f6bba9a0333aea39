import fc from 'fast-check';
import { Accumulator } from '../../lib/metrics/accumulator';

describe('Accumulator (kpl.md §9 accumulator.h)', () => {
  it('reads count, sum, min and max cumulatively without a window', () => {
    const acc = new Accumulator();
    acc.add(3, 10);
    acc.add(5, 10);
    acc.add(1, 12);
    expect(acc.read(500)).toEqual({ count: 3, sum: 9, min: 1, max: 5 });
  });

  it('sums only the last N buckets for a window of N seconds, the current second included', () => {
    const acc = new Accumulator();
    for (let s = 0; s < 10; s++) acc.add(s + 1, s); // second s holds value s + 1
    expect(acc.read(9, 5)).toEqual({ count: 5, sum: 6 + 7 + 8 + 9 + 10, min: 6, max: 10 });
    expect(acc.read(9, 1)).toEqual({ count: 1, sum: 10, min: 10, max: 10 });
  });

  it('drops values older than 60 s from the window but keeps them in the cumulative total', () => {
    const acc = new Accumulator();
    acc.add(7, 10);
    expect(acc.read(69, 60).count).toBe(1); // seconds 10 … 69
    expect(acc.read(70, 60).count).toBe(0); // seconds 11 … 70
    expect(acc.read(70)).toEqual({ count: 1, sum: 7, min: 7, max: 7 });
  });

  it('reuses a ring slot after 60 s without mixing the old second into the new one', () => {
    const acc = new Accumulator();
    acc.add(100, 5);
    acc.add(1, 65); // same slot as second 5
    expect(acc.read(65, 60)).toEqual({ count: 1, sum: 1, min: 1, max: 1 });
  });

  it('reports zeros, not infinities, for an empty window', () => {
    const acc = new Accumulator();
    expect(acc.read(0, 60)).toEqual({ count: 0, sum: 0, min: 0, max: 0 });
    expect(acc.read(0)).toEqual({ count: 0, sum: 0, min: 0, max: 0 });
  });

  it('ignores non-finite values', () => {
    const acc = new Accumulator();
    acc.add(Number.NaN, 1);
    acc.add(Infinity, 1);
    acc.add(2, 1);
    expect(acc.read(1)).toEqual({ count: 1, sum: 2, min: 2, max: 2 });
  });

  it('drains each second once: the delta since the previous drain', () => {
    const acc = new Accumulator();
    acc.add(1, 0);
    acc.add(2, 1);
    acc.add(4, 2);
    expect(acc.drain(1)).toEqual({ count: 2, sum: 3, min: 1, max: 2 });
    expect(acc.drain(1)).toEqual({ count: 0, sum: 0, min: 0, max: 0 });
    expect(acc.drain(2)).toEqual({ count: 1, sum: 4, min: 4, max: 4 });
  });

  it('keeps an unexported bucket that leaves the ring for the next drain', () => {
    const acc = new Accumulator();
    acc.add(9, 3);
    acc.add(1, 63); // evicts second 3 before any drain
    acc.add(2, 200); // evicts nothing relevant; second 63's slot differs
    expect(acc.drain(300)).toEqual({ count: 3, sum: 12, min: 1, max: 9 });
  });

  it('exports a sample put into a second that was already drained in the next drain', () => {
    const acc = new Accumulator();
    acc.add(1, 5);
    expect(acc.drain(5).count).toBe(1); // a final drain that took the open second
    acc.add(2, 5);
    expect(acc.drain(5)).toEqual({ count: 1, sum: 2, min: 2, max: 2 });
    expect(acc.read(5, 1)).toEqual({ count: 2, sum: 3, min: 1, max: 2 });
  });

  it('exports a late sample (clock stepped back past the ring) instead of losing it', () => {
    const acc = new Accumulator();
    acc.add(1, 70);
    acc.add(5, 10); // slot of 10 holds 70
    expect(acc.read(70, 60).count).toBe(1);
    expect(acc.drain(70)).toEqual({ count: 2, sum: 6, min: 1, max: 5 });
  });

  it('hands out every sample exactly once across any sequence of drains', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('add' as const), step: fc.integer({ min: 0, max: 90 }), value: fc.integer({ min: -50, max: 50 }) }),
            fc.record({ kind: fc.constant('drain' as const), lag: fc.integer({ min: 0, max: 2 }) }),
          ),
          { maxLength: 200 },
        ),
        (ops) => {
          const acc = new Accumulator();
          let second = 0;
          let addedCount = 0;
          let addedSum = 0;
          let drainedCount = 0;
          let drainedSum = 0;
          for (const op of ops) {
            if (op.kind === 'add') {
              second += op.step;
              acc.add(op.value, second);
              addedCount++;
              addedSum += op.value;
            } else {
              const d = acc.drain(second - op.lag);
              drainedCount += d.count;
              drainedSum += d.sum;
            }
          }
          const last = acc.drain(second);
          expect(drainedCount + last.count).toBe(addedCount);
          expect(drainedSum + last.sum).toBe(addedSum);
          expect(acc.read(second).count).toBe(addedCount);
        },
      ),
    );
  });
});
