import { map, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { aggregateByShard, type AggregateByShardOptions } from '../../lib/operators/aggregate-by-shard';
import type { BufferedRecord, KinesisRecord } from '../../lib/records';
import { bufferedRecord, SHARD_1 } from '../../spec/helpers/batching-records';

/** A 10-byte record named by its partition key, arriving at `arrival` with deadline arrival + 10. */
const rec = (pk: string, arrival: number, extra: Parameters<typeof bufferedRecord>[0] = {}): BufferedRecord =>
  bufferedRecord({ partitionKey: pk, arrival, deadline: arrival + 10, data: 10, ...extra });

/** Each Kinesis record as the partition keys inside it, in order ("ab" = a and b aggregated). */
const names = (kr: KinesisRecord): string => kr.records.map((r) => r.record.partitionKey).join('');

describe('aggregateByShard (timing)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });
  const aggregate = (source: Observable<BufferedRecord>, options: AggregateByShardOptions = {}) =>
    source.pipe(aggregateByShard({ scheduler, ...options }), map(names));

  it('closes an aggregated record recordMaxBufferedTimeMs after its first record', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-----------c-|', { a: rec('a', 1), b: rec('b', 3), c: rec('c', 15) });
      const subs = '      ^----------------!';
      const expected = '  -----------x-----(y|)';
      //                   a at 1 + 10 = 11 (b rides along); c is flushed by completion at 17
      expectObservable(aggregate(source)).toBe(expected, { x: 'ab', y: 'c' });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('moves the timer earlier when a record with an earlier deadline arrives (a retry), never later', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-r-----------------|', { a: rec('a', 1, { deadline: 20 }), r: rec('r', 3, { deadline: 7 }) });
      const expected = '  -------x-------------|';
      //                   a is due at 20; the retry r (3 + 4) is due at 7: both go at 7, r first
      expectObservable(aggregate(source)).toBe(expected, { x: 'ra' });
    });
  });

  it('closes at once on aggregationMaxCount', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-b-c-|', { a: rec('a', 1), b: rec('b', 3), c: rec('c', 5) });
      const expected = '  ---x---(y|)';
      //                   2 records: closed at 3, not at 11
      expectObservable(aggregate(source, { aggregationMaxCount: 2 })).toBe(expected, { x: 'ab', y: 'c' });
    });
  });

  it('closes at once on aggregationMaxSize, packs earliest deadlines first and keeps the rest with its deadline', () => {
    scheduler.run(({ hot, expectObservable }) => {
      // 30-byte records with distinct 1-char keys: 2 aggregate to 20 + 2×(3+1+1+2+30+2) = 98 bytes, 3 to 137
      const source = hot('-a-b-c----------------------------|', {
        a: rec('a', 1, { data: 30, deadline: 30 }),
        b: rec('b', 3, { data: 30, deadline: 10 }),
        c: rec('c', 5, { data: 30, deadline: 20 }),
      });
      const expected = '  -----x------------------------y---|';
      //                   at 5: 137 ≥ 128 → [b(10), c(20)] = 98 bytes; a waits for its deadline 30
      expectObservable(aggregate(source, { aggregationMaxSize: 128 })).toBe(expected, { x: 'bc', y: 'a' });
    });
  });

  it('sends a lone record over aggregationMaxSize alone, at once', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-B-------------|', { a: rec('a', 1), B: rec('B', 3, { data: 500, deadline: 20 }) });
      const expected = '  ---(xy)----------|';
      //                   B (500 > 128) comes after a in deadline order: a goes (it does not fit with B), then B alone
      expectObservable(aggregate(source, { aggregationMaxSize: 128 })).toBe(expected, { x: 'a', y: 'B' });
    });
  });

  it('never lets a busy shard delay another shard', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-b-c-d-e-f----|', {
        a: rec('a', 1, { predictedShard: SHARD_1 }), // due at 11, alone on shard 1
        b: rec('b', 3),
        c: rec('c', 5),
        d: rec('d', 7),
        e: rec('e', 9),
        f: rec('f', 11),
      });
      const expected = '  -----x---y-z----(w|)';
      //                   shard 0 fills at 2 records (b, c at 5; d, e at 9); shard 1's a still goes at 1 + 10 = 11
      expectObservable(aggregate(source, { aggregationMaxCount: 2 })).toBe(expected, {
        x: 'bc',
        y: 'de',
        z: 'a',
        w: 'f',
      });
    });
  });

  it('sends a record with no predicted shard alone at once (never mixed: aiokpl B1)', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const none = { predictedShard: null };
      const source = hot('-a-b-c-|', { a: rec('a', 1, none), b: rec('b', 3, none), c: rec('c', 5, none) });
      expectObservable(aggregate(source)).toBe('-a-b-c-|', { a: 'a', b: 'b', c: 'c' });
    });
  });

  it('sends every record alone at once when aggregation is disabled', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-b-|', { a: rec('a', 1), b: rec('b', 3) });
      expectObservable(aggregate(source, { aggregationEnabled: false })).toBe('-a-b-|', { a: 'a', b: 'b' });
    });
  });

  it('sends everything buffered, every shard, on each flush$ emission', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-b-c------------------|', {
        a: rec('a', 1, { deadline: 100 }),
        b: rec('b', 3, { deadline: 100, predictedShard: SHARD_1 }),
        c: rec('c', 5, { deadline: 100 }),
      });
      const flush$ = hot('----f----f--------------');
      const expected = '  ----(xy)-z--------------|';
      //                   at 4: shard 0 [a], shard 1 [b]; at 9: [c]; the deadlines (100) are never reached
      expectObservable(aggregate(source, { flush$ })).toBe(expected, { x: 'a', y: 'b', z: 'c' });
    });
  });

  it('ignores the completion of flush$ and passes its error on', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a--------------b----|', { a: rec('a', 1), b: rec('b', 16) });
      const flush$ = hot('---|');
      const failing$ = hot('---#');
      //                   flush$ completes at 3: a still goes at its deadline 11
      expectObservable(aggregate(source, { flush$ })).toBe('-----------x---------(y|)', { x: 'a', y: 'b' });
      expectObservable(aggregate(source, { flush$: failing$ })).toBe('---#');
    });
  });

  it('emits nothing and completes for an empty source', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(aggregate(cold<BufferedRecord>('|'))).toBe('|');
    });
  });

  it('never emits for a source that never emits', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(aggregate(cold<BufferedRecord>('-'))).toBe('-');
    });
  });

  it('passes an error on at once and drops what is buffered', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a--#', { a: rec('a', 1) });
      expectObservable(aggregate(source)).toBe('----#');
    });
  });

  it('cancels its timers when unsubscribed', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-----------|', { a: rec('a', 1), b: rec('b', 3, { predictedShard: SHARD_1 }) });
      const flush$ = hot('----------------f');
      const unsub = '     ^----!';
      //                   unsubscribed at 5, before the deadlines 11 and 13: nothing fires
      expectObservable(aggregate(source, { flush$ }), unsub).toBe('------');
      expectSubscriptions(source.subscriptions).toBe(unsub);
      expectSubscriptions(flush$.subscriptions).toBe(unsub);
    });
  });
});
