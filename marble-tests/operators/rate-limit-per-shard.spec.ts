import fc from 'fast-check';
import { concat, filter, from, map, merge, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { rateLimitPerShard, type ThrottleSignal } from '../../lib/operators/rate-limit-per-shard';
import type { KinesisRecord, SendOutcome } from '../../lib/records';
import {
  expiredOutcome,
  fillers,
  isFiller,
  limiterRecord,
  MAX_RECORD_BYTES,
  maxInWindow,
  SHARD_0,
  SHARD_1,
} from '../../spec/helpers/limiter-records';

/** A 10 MiB record: it empties the bytes bucket (capacity 10 MiB), which at rateLimit 10000 refills it in 100 ms. */
function big(id: string, spec: Parameters<typeof limiterRecord>[0] = {}): KinesisRecord {
  return limiterRecord({ id, size: MAX_RECORD_BYTES, ...spec });
}

describe('rateLimitPerShard', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  it('admits a record once its shard has the bytes for it, and completes when the queue is empty', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const values = { a: big('a'), b: big('b'), c: big('c') };
      const source = cold('(abc|)', values);
      const subs = '       (^!)';
      const expected = '   a 99ms b 99ms (c|)';
      //                   rateLimit 10000: bytes refill 1 MiB × 100 = 100 MiB/s; a empties the 10 MiB bucket at 0,
      //                   10 MiB grow back in 100 ms, seen by the drain at 4 × 25 = 100; c likewise at 200

      const result = source.pipe(rateLimitPerShard({ rateLimit: 10000, scheduler }));

      expectObservable(result).toBe(expected, values);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('admits one record per 100 ms at rateLimit 1 (10 records/s) once the capacity of 1000 is used up', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const values = { a: limiterRecord({ id: 'a' }), b: limiterRecord({ id: 'b' }) };
      const source = concat(from(fillers(1000)), cold('(ab|)', values));
      const expected = '   100ms a 99ms (b|)';
      //                   1000 fillers empty the records bucket at 0; 1 token grows in 1000 ms / 10 = 100 ms

      const result = source.pipe(rateLimitPerShard({ rateLimit: 1, scheduler }), filter((r) => !isFiller(r)));

      expectObservable(result).toBe(expected, values);
    });
  });

  it('refills the bucket to its capacity and no further while idle', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const values = { x: big('x'), y: big('y'), z: big('z') };
      const source = cold('x 9999ms (yz|)', values);
      const expected = '   x 9999ms y 99ms (z|)';
      //                   after 10 s idle the bytes bucket holds 10 MiB (its capacity), not 100 × 10 MiB: z waits 100 ms

      expectObservable(source.pipe(rateLimitPerShard({ rateLimit: 10000, scheduler }))).toBe(expected, values);
    });
  });

  it('sends expired records to the expiry path before admitting, and they take no tokens', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const x = big('x');
      const y = big('y', { deadline: 0, expiration: 99 });
      const z = big('z', { deadline: 1, expiration: 10000 });
      const source = cold('(xyz)', { x, y, z });
      const expected = '   x 99ms (ez)';
      //                   drain at 100: 100 > 99 so y expires first; z then takes the 10 MiB y would have needed

      const result = source.pipe(rateLimitPerShard({ rateLimit: 10000, scheduler }));

      expectObservable(result).toBe(expected, { x, z, e: expiredOutcome(y, 100) });
    });
  });

  it('still admits a record at the very ms of its expiration (expired means now > expiration, kpl.md §8)', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const x = big('x');
      const y = big('y', { expiration: 100 });
      const expected = '   x 99ms y';
      expectObservable(cold('(xy)', { x, y }).pipe(rateLimitPerShard({ rateLimit: 10000, scheduler }))).toBe(expected, { x, y });
    });
  });

  it('fails a record that arrives already expired at once, without waiting for tokens', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const x = big('x');
      const a = limiterRecord({ id: 'a', expiration: 1 });
      const source = cold('x-a', { x, a });
      const expected = '   x-e';
      //                   a arrives at 2 > 1: expired on arrival
      expectObservable(source.pipe(rateLimitPerShard({ rateLimit: 10000, scheduler }))).toBe(expected, { x, e: expiredOutcome(a, 2) });
    });
  });

  it('admits in deadline order and blocks behind a head that does not fit (head-of-line, as the KPL)', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const x = big('x');
      const c = limiterRecord({ id: 'c', size: 1, deadline: 50 });
      const b = big('b', { deadline: 10 });
      const source = cold('(xcb)', { x, c, b });
      const expected = '   x 99ms b 24ms c';
      //                   b (deadline 10) goes ahead of c (deadline 50) though c came first; c needs 1 byte,
      //                   available from the drain at 25, but waits behind b (100) and gets its byte at 125

      expectObservable(source.pipe(rateLimitPerShard({ rateLimit: 10000, scheduler }))).toBe(expected, { x, b, c });
    });
  });

  it('keeps shards apart: a throttled, exhausted shard never delays another', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const x = big('x');
      const y = big('y');
      const z = big('z', { shard: SHARD_1 });
      const source = cold('(xy) 6ms z', { x, y, z });
      const throttled = hot('-t', { t: x.predictedShard! });
      const expected = '   x 9ms z 189ms y';
      //                   z (shard 1) arrives at 10 and passes at once; y (shard 0) waits, and since shard 0 was
      //                   throttled at 1 (refill halved to 50 MiB/s, +10 MiB/s per s) it gets its 10 MiB at 200, not 100

      const result = source.pipe(rateLimitPerShard({ rateLimit: 10000, scheduler, throttled$: throttled }));

      expectObservable(result).toBe(expected, { x, y, z });
    });
  });

  it('passes records with no predicted shard straight through, whatever the buckets hold', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const values = { x: big('x'), u: big('u', { shard: null }), v: big('v', { shard: null }) };
      const source = cold('(xuv|)', values);
      const expected = '   (xuv|)';
      expectObservable(source.pipe(rateLimitPerShard({ rateLimit: 1, scheduler }))).toBe(expected, values);
    });
  });

  it('expires a record with no predicted shard that arrives past its expiration (the KPL would send it)', () => {
    scheduler.run(({ cold, expectObservable }) => {
      // u expires at 5 and arrives at 5 (still in time); v expires at 5 and arrives at 6.
      const u = limiterRecord({ id: 'u', shard: null, expiration: 5 });
      const v = limiterRecord({ id: 'v', shard: null, expiration: 5 });
      const source = cold('-----u v|', { u, v });
      expectObservable(source.pipe(rateLimitPerShard({ scheduler }))).toBe('-----u e|', { u, e: expiredOutcome(v, 6) });
    });
  });

  it('completes at once when the source completes and nothing waits', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const x = big('x');
      expectObservable(cold('x--|', { x }).pipe(rateLimitPerShard({ scheduler }))).toBe('x--|', { x });
    });
  });

  it('mirrors an empty source and a source that never emits', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold<KinesisRecord>('|').pipe(rateLimitPerShard({ scheduler }))).toBe('|');
      expectObservable(cold<KinesisRecord>('-').pipe(rateLimitPerShard({ scheduler }))).toBe('-');
    });
  });

  it('passes the source error on and drops what waits', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const values = { x: big('x'), y: big('y') };
      const source = cold('(xy) 9ms #', values);
      const expected = '   x 12ms #';
      //                   the group takes frames 0–3, so the error comes at 4 + 9 = 13; y (due at 100) is dropped
      expectObservable(source.pipe(rateLimitPerShard({ rateLimit: 10000, scheduler }))).toBe(expected, values);
    });
  });

  it('stops at unsubscription, before a waiting record is due', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const values = { x: big('x'), y: big('y') };
      const source = hot('(xy)', values);
      const unsub = '     ^ 49ms !';
      const expected = '  x';
      const subs = '      ^ 49ms !';
      expectObservable(source.pipe(rateLimitPerShard({ rateLimit: 10000, scheduler })), unsub).toBe(expected, values);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('takes a burst of throttle signals for one shard as one decrease (debounce 100 ms)', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const x = big('x');
      const y = big('y');
      const s = x.predictedShard!;
      const throttled = hot('-(ttttt)', { t: s });
      const expected = '   x 199ms y';
      //                   five signals at 1 halve the rate once: y still at 200 (as with one signal), not at the floor (≈ 1 s)
      const result = cold('(xy)', { x, y }).pipe(rateLimitPerShard({ rateLimit: 10000, scheduler, throttled$: throttled }));
      expectObservable(result).toBe(expected, { x, y });
    });
  });

  it('ignores a throttle signal for another stream or an unknown shard', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const x = big('x');
      const y = big('y');
      const throttled = hot<ThrottleSignal>('-ab', {
        a: { streamName: 'other', shardId: x.predictedShard! },
        b: 'shardId-000000000099',
      });
      const expected = '   x 99ms y';
      const result = cold('(xy)', { x, y }).pipe(rateLimitPerShard({ rateLimit: 10000, scheduler, throttled$: throttled }));
      expectObservable(result).toBe(expected, { x, y });
    });
  });

  it('applies a { streamName, shardId } signal to that stream only', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const x = big('x');
      const y = big('y');
      const p = big('p', { streamName: 'other' });
      const q = big('q', { streamName: 'other' });
      const throttled = hot<ThrottleSignal>('-t', { t: { streamName: 'stream', shardId: x.predictedShard! } });
      const expected = '   (xp) 96ms q 99ms y';
      //                   same shard id, two streams: 'other' keeps 100 ms (q at 100), 'stream' is halved (y at 200)
      const result = cold('(xpyq)', { x, y, p, q }).pipe(rateLimitPerShard({ rateLimit: 10000, scheduler, throttled$: throttled }));
      expectObservable(result).toBe(expected, { x, y, p, q });
    });
  });
});

/** Every emission of `result` with its virtual time. */
function timed<T>(scheduler: TestScheduler, result: Observable<T>): { time: number; value: T }[] {
  const out: { time: number; value: T }[] = [];
  result.pipe(map((value) => ({ time: scheduler.now(), value }))).subscribe((e) => out.push(e));
  return out;
}

describe('rateLimitPerShard over many records (virtual time)', () => {
  it('lowers the rate on a throttle signal and restores it additively', () => {
    const scheduler = new TestScheduler((a, e) => expect(a).toEqual(e));
    scheduler.run(({ hot }) => {
      const waiting = Array.from({ length: 100 }, (_, i) => limiterRecord({ id: `w${i}`, deadline: i }));
      const source = concat(from(fillers(1000)), from(waiting));
      const throttled = hot('t', { t: waiting[0].predictedShard! });
      const admitted = timed(scheduler, source.pipe(rateLimitPerShard({ rateLimit: 1, scheduler, throttled$: throttled }), filter((r) => !isFiller(r))));
      scheduler.flush();
      const inSecond = (s: number) => admitted.filter((e) => e.time >= s * 1000 && e.time < (s + 1) * 1000).length;
      // nominal 10/s; halved to 5/s at 0, then +1/s each second: tokens(t) = 5t + t²/2 → 5 in the first second,
      // back to 10/s from 5 s on
      expect(admitted[0].time).toBe(200);
      expect(inSecond(0)).toBe(5);
      expect(inSecond(1)).toBe(6);
      expect(inSecond(6)).toBe(10);
      expect(inSecond(7)).toBe(10);
    });
  });

  it('never admits more than 1000 records in any 1 s window after the initial burst (10,000 records, rateLimit 100)', () => {
    const scheduler = new TestScheduler((a, e) => expect(a).toEqual(e));
    scheduler.run(() => {
      const records = Array.from({ length: 10000 }, (_, i) => limiterRecord({ id: `r${i}`, size: 100, deadline: i, expiration: 1e9 }));
      const admitted = timed(scheduler, from(records).pipe(rateLimitPerShard({ rateLimit: 100, scheduler })));
      scheduler.flush();
      const items = admitted.map((e) => ({ time: e.time, amount: 1 }));
      const burst = items.filter((i) => i.time === 0).length;
      const maxAfterBurst = maxInWindow(items, 1000, 1);
      const maxOverall = maxInWindow(items, 1000);
      console.log(`10,000 × 100 B records, rateLimit 100: burst ${burst} at t=0, max in any 1 s window after it ${maxAfterBurst}, ` +
        `max in any 1 s window including it ${maxOverall}, last admitted at ${items[items.length - 1].time} ms`);
      expect(admitted.length).toBe(10000);
      expect(burst).toBe(1000);
      expect(maxAfterBurst).toBeLessThanOrEqual(1000);
      expect(maxOverall).toBeLessThanOrEqual(2000); // the burst plus at most one second of refill
      expect(items[items.length - 1].time).toBe(9000); // 9000 records after the burst at 1000/s
      expect(admitted.map((e) => e.value)).toEqual(records); // deadline order = arrival order here
    });
  });

  it.each([
    [524288, 20], // 512 KiB: 20 fill the 10 MiB bucket exactly, then 2 per second
    [300000, 34], // not a divisor: ⌊10485760 / 300000⌋ = 34, and 285760 B of the burst's tokens are left over
  ])('never admits more than 10 MiB + 1 MiB/s of records of %i B (rateLimit 100)', (size, burstCount) => {
    const scheduler = new TestScheduler((a, e) => expect(a).toEqual(e));
    scheduler.run(() => {
      const records = Array.from({ length: 100 }, (_, i) => limiterRecord({ id: `r${i}`, size, deadline: i, expiration: 1e9 }));
      const admitted = timed(scheduler, from(records).pipe(rateLimitPerShard({ rateLimit: 100, scheduler })));
      scheduler.flush();
      const items = admitted.map((e) => ({ time: e.time, amount: size }));
      const burstBytes = items.filter((i) => i.time === 0).length * size;
      const leftover = 10485760 - burstBytes;
      const maxAfterBurst = maxInWindow(items, 1000, 1);
      let cumulative = 0;
      let worstExcess = -Infinity; // admitted bytes − (10 MiB + 1 MiB/s × t), at each admission
      for (const i of items) {
        cumulative += i.amount;
        worstExcess = Math.max(worstExcess, cumulative - (10485760 + (1048576 * i.time) / 1000));
      }
      const last = items[items.length - 1].time;
      console.log(`100 × ${size} B records, rateLimit 100: burst ${burstBytes} B at t=0 (capacity 10485760), ` +
        `max bytes in any 1 s window after it ${maxAfterBurst} (1 MiB/s + ${leftover} B left from the burst), ` +
        `worst excess over 10 MiB + 1 MiB/s × t: ${worstExcess} B, last admitted at ${last} ms`);
      expect(admitted.length).toBe(100);
      expect(burstBytes).toBe(burstCount * size);
      expect(worstExcess).toBeLessThanOrEqual(1e-3); // the bucket's float slack is 1e-6 token
      expect(maxAfterBurst).toBeLessThanOrEqual(1048576 + leftover);
      // the rest needs ((100 − burst) × size − leftover) / 1 MiB s, rounded up to the 25 ms drain
      const due = (((100 - burstCount) * size - leftover) / 1048576) * 1000;
      expect(last).toBeGreaterThanOrEqual(due);
      expect(last).toBeLessThan(due + 25);
    });
  });
});

// Types: a misuse must not compile.
describe('rateLimitPerShard types', () => {
  it('takes the scheduler inside the options and emits records or outcomes', () => {
    const s = new TestScheduler(() => undefined);
    // @ts-expect-error scheduler belongs in the options
    rateLimitPerShard(s);
    const out: Observable<KinesisRecord | SendOutcome> = from([limiterRecord()]).pipe(rateLimitPerShard({ scheduler: s }));
    expect(out).toBeDefined();
    // @ts-expect-error a throttle signal is a shard id or { streamName, shardId }
    rateLimitPerShard({ throttled$: from([1]) });
  });
});

describe('rateLimitPerShard invariants (property, virtual time)', () => {
  it('lets every record out exactly once, within 1000 + rate × t records and 10 MiB + rate × t bytes per shard', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.array(
          fc.record({
            at: fc.integer({ min: 0, max: 3000 }),
            shard: fc.constantFrom(SHARD_0, SHARD_1, null),
            size: fc.constantFrom(1, 1000, 1048576, MAX_RECORD_BYTES),
            deadline: fc.integer({ min: 0, max: 5000 }),
            ttl: fc.integer({ min: 0, max: 20000 }),
          }),
          { maxLength: 60 },
        ),
        (rateLimit, specs) => {
          const scheduler = new TestScheduler((a, e) => expect(a).toEqual(e));
          scheduler.run(({ cold }) => {
            const sorted = [...specs].sort((a, b) => a.at - b.at);
            const records = sorted.map((s, i) =>
              limiterRecord({ id: `r${i}`, shard: s.shard, size: s.size, deadline: s.at + s.deadline, expiration: s.at + s.ttl }),
            );
            const source = merge(...records.map((r, i) => cold(`${sorted[i].at}ms (r|)`, { r })));
            const out: { time: number; value: KinesisRecord | SendOutcome }[] = [];
            let completedAt = -1;
            source.pipe(rateLimitPerShard({ rateLimit, scheduler })).subscribe({
              next: (value) => out.push({ time: scheduler.now(), value }),
              complete: () => (completedAt = scheduler.now()),
            });
            scheduler.flush();

            // each record exactly once, as itself or as its expired outcome
            const seen = out.map((e) => ('kind' in e.value ? e.value.batch.records[0] : e.value));
            expect(new Set(seen).size).toBe(records.length);
            expect(seen.length).toBe(records.length);
            expect(completedAt).toBeGreaterThanOrEqual(0);

            for (const shard of [SHARD_0, SHARD_1]) {
              const admitted = out.filter((e) => !('kind' in e.value) && e.value.predictedShard === shard);
              let count = 0;
              let bytes = 0;
              for (const e of admitted) {
                const r = e.value as KinesisRecord;
                count++;
                bytes += r.size;
                expect(count).toBeLessThanOrEqual(1000 + (10 * rateLimit * e.time) / 1000 + 1e-6);
                expect(bytes).toBeLessThanOrEqual(MAX_RECORD_BYTES + (10485.76 * rateLimit * e.time) / 1000 + 1e-3);
              }
            }
            // an expired outcome comes only after its record's expiration; an admitted record no later than
            for (const e of out) {
              if ('kind' in e.value) expect(e.time).toBeGreaterThan(e.value.batch.records[0].expiration);
              else if (e.value.predictedShard !== undefined) expect(e.time).toBeLessThanOrEqual(e.value.expiration);
            }
          });
        },
      ),
      { numRuns: 60 },
    );
  });
});
