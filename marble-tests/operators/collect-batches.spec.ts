import { map, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { collectBatches, type CollectBatchesOptions } from '../../lib/operators/collect-batches';
import type { KinesisRecord, PutRecordsBatch } from '../../lib/records';
import { SHARD_1, singleKinesisRecord, type BufferedRecordSpec } from '../../spec/helpers/batching-records';

/** A raw 10-byte Kinesis record named by its partition key, deadline arrival + 10 unless given. */
const rec = (pk: string, arrival: number, extra: BufferedRecordSpec = {}): KinesisRecord =>
  singleKinesisRecord({ partitionKey: pk, arrival, deadline: arrival + 10, data: 10, ...extra });

/** Each request as the partition keys of its records, in order. */
const names = (batch: PutRecordsBatch): string => batch.records.map((r) => r.partitionKey).join('');

const OFF = { aggregationEnabled: false }; // no entry extension: deadlines stay as given

describe('collectBatches (timing)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });
  const collect = (source: Observable<KinesisRecord>, options: CollectBatchesOptions = {}) =>
    source.pipe(collectBatches({ scheduler, ...options }), map(names));

  it('closes a request at the deadline of its first record', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-----------c-|', { a: rec('a', 1), b: rec('b', 3), c: rec('c', 15) });
      const subs = '      ^----------------!';
      const expected = '  -----------x-----(y|)';
      //                   a at 1 + 10 = 11; c is flushed by completion at 17
      expectObservable(collect(source, OFF)).toBe(expected, { x: 'ab', y: 'c' });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('extends a deadline on entry to now + min(50, 0.2 × recordMaxBufferedTimeMs) with aggregation on (KPL #280)', () => {
    scheduler.run(({ hot, expectObservable }) => {
      // a arrives at 5 with its aggregation deadline (5) already reached
      const source = hot('-----a-------------------------|', { a: rec('a', 0, { deadline: 5 }) });
      const expected = '  -------------------------x-----|';
      //                   5 + min(50, 0.2 × 100) = 25
      expectObservable(collect(source)).toBe(expected, { x: 'a' });
    });
  });

  it('extends by at most 50 ms', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-----a--------------------------------------------------------|', { a: rec('a', 0, { deadline: 5 }) });
      const expected = '  -------------------------------------------------------x------|';
      //                   5 + min(50, 0.2 × 1000) = 55
      expectObservable(collect(source, { recordMaxBufferedTimeMs: 1000 })).toBe(expected, { x: 'a' });
    });
  });

  it('never extends a deadline past the expiration, and never shortens one', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-----a-b--------------------------------|', {
        a: rec('a', 0, { deadline: 5, expiration: 12 }),
        b: rec('b', 0, { deadline: 40 }),
      });
      const expected = '  ------------x---------------------------|';
      //                   a: min(5 + 20, 12) = 12; b keeps 40 and rides along at 12
      expectObservable(collect(source)).toBe(expected, { x: 'ab' });
    });
  });

  it('keeps deadlines as they are with aggregation off', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-----a---|', { a: rec('a', 0, { deadline: 5 }) });
      expectObservable(collect(source, OFF)).toBe('-----x---|', { x: 'a' });
    });
  });

  it('closes at once on collectionMaxCount', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-b-c-|', { a: rec('a', 1), b: rec('b', 3), c: rec('c', 5) });
      const expected = '  ---x---(y|)';
      expectObservable(collect(source, { ...OFF, collectionMaxCount: 2 })).toBe(expected, { x: 'ab', y: 'c' });
    });
  });

  it('closes at once on collectionMaxSize, earliest deadlines first, and keeps the rest with its deadline', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const big = { data: 20000 }; // 1-byte key + 20000 = 20001 bytes each; 3 = 60003 ≥ 52224
      const source = hot('-a-b-c----------------------------|', {
        a: rec('a', 1, { ...big, deadline: 30 }),
        b: rec('b', 3, { ...big, deadline: 10 }),
        c: rec('c', 5, { ...big, deadline: 20 }),
      });
      const expected = '  -----x------------------------y---|';
      //                   at 5: [b(10), c(20)] = 40002 bytes; a waits for 30
      expectObservable(collect(source, { ...OFF, collectionMaxSize: 52224 })).toBe(expected, { x: 'bc', y: 'a' });
    });
  });

  it('closes the whole request at once when one predicted shard has 256 KiB in it (kpl.md §6)', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const big = { data: 100000 };
      const source = hot('-x-a-b-c-|', {
        x: rec('x', 1, { predictedShard: SHARD_1 }),
        a: rec('a', 3, big),
        b: rec('b', 5, big),
        c: rec('c', 7, big),
      });
      const expected = '  -------y-|';
      //                   shard 0 holds 300000 ≥ 262144 at 7: the request goes with shard 1's x too
      expectObservable(collect(source, OFF)).toBe(expected, { y: 'xabc' });
    });
  });

  it('counts unpredicted records for no shard', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const big = { data: 100000, predictedShard: null };
      const source = hot('-a-b-c--------|', { a: rec('a', 1, big), b: rec('b', 3, big), c: rec('c', 5, big) });
      const expected = '  -----------y--|';
      //                   300000 unpredicted bytes trigger nothing: a's deadline 11 does
      expectObservable(collect(source, OFF)).toBe(expected, { y: 'abc' });
    });
  });

  it('never lets a busy stream delay another stream', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const other = { streamName: 'other' };
      const source = hot('-o-a-b-c-d----|', {
        o: rec('o', 1, other),
        a: rec('a', 3),
        b: rec('b', 5),
        c: rec('c', 7),
        d: rec('d', 9),
      });
      const expected = '  -----x---y-z--|';
      //                   stream-a fills at 2 records (5, 9); other's o still goes at 1 + 10 = 11
      expectObservable(collect(source, { ...OFF, collectionMaxCount: 2 })).toBe(expected, { x: 'ab', y: 'cd', z: 'o' });
    });
  });

  it('sends everything buffered, every stream, on each flush$ emission', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a-b-c-------|', {
        a: rec('a', 1, { deadline: 100 }),
        b: rec('b', 3, { deadline: 100, streamName: 'other' }),
        c: rec('c', 5, { deadline: 100 }),
      });
      const flush$ = hot('----f----f----');
      const expected = '  ----(xy)-z---|';
      expectObservable(collect(source, { ...OFF, flush$ })).toBe(expected, { x: 'a', y: 'b', z: 'c' });
    });
  });

  it('emits nothing and completes for an empty source', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(collect(cold<KinesisRecord>('|'))).toBe('|');
    });
  });

  it('never emits for a source that never emits', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(collect(cold<KinesisRecord>('-'))).toBe('-');
    });
  });

  it('passes an error on at once and drops what is buffered', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-a--#', { a: rec('a', 1) });
      expectObservable(collect(source)).toBe('----#');
    });
  });

  it('cancels its timers when unsubscribed', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-----------|', { a: rec('a', 1), b: rec('b', 3, { streamName: 'other' }) });
      const flush$ = hot('----------------f');
      const unsub = '     ^----!';
      //                   unsubscribed at 5, before the deadlines 21 and 23: nothing fires
      expectObservable(collect(source, { flush$ }), unsub).toBe('------');
      expectSubscriptions(source.subscriptions).toBe(unsub);
      expectSubscriptions(flush$.subscriptions).toBe(unsub);
    });
  });
});
