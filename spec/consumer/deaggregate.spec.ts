import type { _Record } from '@aws-sdk/client-kinesis';
import { from, Subject, take, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { AggregateBuilder, encodeAggregated } from '../../lib/codec/aggregation';
import { partitionKeyToHashKey } from '../../lib/codec/hash';
import { ValidationError } from '../../lib/config';
import { deaggregate, type DeaggregatedRecord } from '../../lib/consumer/deaggregate';
import { aggEncode } from '../helpers/codec-agg';
import { kinesisRecord, utf8 } from '../helpers/codec-builders';
import { refusal } from '../helpers/refusal';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');
const HALF = 1n << 127n; // 'a' hashes below it, 'b' above (aiokpl.md §8.4 vectors)
const LOWER_HALF = { startingHashKey: 0n, endingHashKey: HALF - 1n };

const A = kinesisRecord(encodeAggregated([{ partitionKey: 'a', data: 'a0' }, { partitionKey: 'b', data: 'a1', explicitHashKey: '5' }]), 'a', '1');
const P = kinesisRecord(utf8('plain'), 'pk', '2');
const B = kinesisRecord(encodeAggregated([{ partitionKey: 'a', data: 'b0' }]), 'a', '3');

/** Runs records through the operator synchronously and collects the output. */
function run(records: _Record[], options?: Parameters<typeof deaggregate>[0]): DeaggregatedRecord[] {
  let out: DeaggregatedRecord[] = [];
  from(records).pipe(deaggregate(options), toArray()).subscribe((r) => (out = r));
  return out;
}
const summary = (records: DeaggregatedRecord[]): unknown[] =>
  records.map((r) => [r.partitionKey, r.explicitHashKey, text(r.data), r.sequenceNumber, r.subSequenceNumber]);

describe('deaggregate (marbles)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  it('splits aggregated records and passes plain ones through', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-A---p---B-|', { A, p: P, B });
      const subs = '      ^----------!';
      const expected = '  -(xy)p---z-|';
      //                   A's two user records come out in A's frame (the group spans 4 characters)

      const at = new Date(0);
      expectObservable(source.pipe(deaggregate())).toBe(expected, {
        x: { partitionKey: 'a', data: utf8('a0'), sequenceNumber: '1', subSequenceNumber: 0, approximateArrivalTimestamp: at },
        y: { partitionKey: 'b', explicitHashKey: '5', data: utf8('a1'), sequenceNumber: '1', subSequenceNumber: 1, approximateArrivalTimestamp: at },
        p: { partitionKey: 'pk', data: utf8('plain'), sequenceNumber: '2', approximateArrivalTimestamp: at },
        z: { partitionKey: 'a', data: utf8('b0'), sequenceNumber: '3', subSequenceNumber: 0, approximateArrivalTimestamp: at },
      });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('completes empty when the source is empty', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold<_Record>('|').pipe(deaggregate())).toBe('|');
    });
  });

  it('never emits when the source never does', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold<_Record>('-').pipe(deaggregate())).toBe('-');
    });
  });

  it('passes the source error through after what came before', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-p-#', { p: P }, new Error('boom'));
      expectObservable(source.pipe(deaggregate())).toBe('-p-#', { p: run([P])[0] }, new Error('boom'));
    });
  });

  it('unsubscribes from the source when the result is unsubscribed', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-p--p--p-|', { p: P });
      const unsub = '     ^-----!';
      const subs = '      ^-----!';
      expectObservable(source.pipe(deaggregate()), unsub).toBe('-p--p-', { p: run([P])[0] });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('drops a straddling aggregated record whole and keeps plain records, with a shard range', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('-A--p--B-|', { A, p: P, B });
      const expected = '  ----p--z-|';
      //                   A's second record has EHK 5, below the range's start 6: A is dropped whole
      const result = source.pipe(deaggregate({ shardRange: { startingHashKey: 6n, endingHashKey: HALF - 1n } }));
      expectObservable(result).toBe(expected, { p: run([P])[0], z: run([B])[0] });
    });
  });
});

describe('deaggregate', () => {
  it('leaves out subSequenceNumber and explicitHashKey of a plain record', () => {
    const [record] = run([P]);
    expect('subSequenceNumber' in record).toBe(false);
    expect('explicitHashKey' in record).toBe(false);
    expect(record.data).toBe(P.Data);
  });

  it('gives sub-records views into the Kinesis record data', () => {
    const [first] = run([A]);
    expect(first.data.buffer).toBe((A.Data as Uint8Array).buffer);
  });

  it('reads records aws-kinesis-agg aggregated', () => {
    const blob = aggEncode([
      { partitionKey: 'alpha', data: 'hello' },
      { partitionKey: 'beta', data: 'world', explicitHashKey: '12345' },
    ]);
    expect(summary(run([kinesisRecord(blob, 'alpha', '9')]))).toEqual([
      ['alpha', undefined, 'hello', '9', 0],
      ['beta', '12345', 'world', '9', 1],
    ]);
  });

  it('passes a record with the magic and a bad checksum through as plain data, as the KCL does', () => {
    const data = encodeAggregated([{ partitionKey: 'a', data: 'x' }]);
    data[data.length - 1] ^= 0xff;
    const [record] = run([kinesisRecord(data, 'outer', '7')]);
    expect(record).toEqual({ partitionKey: 'outer', data, sequenceNumber: '7', approximateArrivalTimestamp: new Date(0) });
  });

  it('decodes a record with a bad checksum when verifyChecksum is false', () => {
    const data = encodeAggregated([{ partitionKey: 'a', data: 'x' }]);
    data[data.length - 1] ^= 0xff;
    expect(summary(run([kinesisRecord(data, 'outer', '7')], { verifyChecksum: false }))).toEqual([['a', undefined, 'x', '7', 0]]);
  });

  it('passes malformed aggregated bytes through as plain data', () => {
    const data = new Uint8Array([0xf3, 0x89, 0x9a, 0xc2, ...new Array<number>(16).fill(0), 0x0b]);
    expect(run([kinesisRecord(data, 'k', '1')], { verifyChecksum: false })).toEqual([
      { partitionKey: 'k', data, sequenceNumber: '1', approximateArrivalTimestamp: new Date(0) },
    ]);
  });

  it('emits nothing for an aggregated record holding no records', () => {
    const data = new Uint8Array([0xf3, 0x89, 0x9a, 0xc2, ...Buffer.from('d41d8cd98f00b204e9800998ecf8427e', 'hex')]);
    expect(run([kinesisRecord(data)])).toEqual([]);
  });

  it('reads a record without data, partition key, sequence number or arrival time', () => {
    expect(run([{ Data: undefined, SequenceNumber: undefined }])).toEqual([{ partitionKey: '', data: new Uint8Array(0), sequenceNumber: '' }]);
  });

  it('stops emitting sub-records once downstream unsubscribes', () => {
    const many = kinesisRecord(encodeAggregated(Array.from({ length: 5 }, (_, i) => ({ partitionKey: 'a', data: String(i) }))));
    let out: DeaggregatedRecord[] = [];
    from([many]).pipe(deaggregate(), take(2), toArray()).subscribe((r) => (out = r));
    expect(out.map((r) => text(r.data))).toEqual(['0', '1']);
  });

  describe('with a shard range (kpl.md §13, KCL AggregatorUtil.deaggregate)', () => {
    it('keeps an aggregated record whose sub-records are all inside the range, bounds included', () => {
      const a = partitionKeyToHashKey('a');
      const record = kinesisRecord(encodeAggregated([{ partitionKey: 'a', data: 'x' }, { partitionKey: 'zz', data: 'y', explicitHashKey: String(a + 10n) }]));
      expect(run([record], { shardRange: { startingHashKey: a, endingHashKey: a + 10n } }).length).toBe(2);
      expect(run([record], { shardRange: { startingHashKey: a + 1n, endingHashKey: a + 10n } }).length).toBe(0);
      expect(run([record], { shardRange: { startingHashKey: a, endingHashKey: a + 9n } }).length).toBe(0);
    });

    it('reads an explicit hash key with leading zeros as its value, as the KCL (BigInteger) does', () => {
      const record = kinesisRecord(encodeAggregated([{ partitionKey: 'a', data: 'x', explicitHashKey: '000123' }, { partitionKey: 'b', data: 'y', explicitHashKey: '7' }]));
      const out = run([record], { shardRange: { startingHashKey: 0n, endingHashKey: 200n } });
      expect(out.map((r) => r.explicitHashKey)).toEqual(['000123', '7']); // kept whole, the text as written
      expect(run([record], { shardRange: { startingHashKey: 0n, endingHashKey: 122n } })).toHaveLength(0);
    });

    it('drops the whole aggregated record when one sub-record is outside, and reports it', () => {
      const dropped: [DeaggregatedRecord[], _Record][] = [];
      const straddling = kinesisRecord(encodeAggregated([{ partitionKey: 'a', data: 'in' }, { partitionKey: 'b', data: 'out' }]), 'a', '4');
      const out = run([straddling, P], { shardRange: LOWER_HALF, onDropped: (records, k) => dropped.push([records, k]) });
      expect(summary(out)).toEqual([['pk', undefined, 'plain', '2', undefined]]);
      expect(dropped.length).toBe(1);
      expect(summary(dropped[0][0])).toEqual([
        ['a', undefined, 'in', '4', 0],
        ['b', undefined, 'out', '4', 1],
      ]);
      expect(dropped[0][1]).toBe(straddling);
    });

    it('counts what it dropped, over all its subscriptions, on the operator (ARCHITECTURE.md: "a count, and the records")', () => {
      const straddling = kinesisRecord(encodeAggregated([{ partitionKey: 'a', data: 'in' }, { partitionKey: 'b', data: 'out' }, { partitionKey: 'a', data: 'in' }]), 'a', '4');
      const inside = kinesisRecord(encodeAggregated([{ partitionKey: 'a', data: 'x' }, { partitionKey: 'a', data: 'y' }]), 'a', '5');
      const op = deaggregate({ shardRange: LOWER_HALF });
      expect(op.dropped).toEqual({ kinesisRecords: 0, userRecords: 0 });
      from([straddling, inside, P]).pipe(op).subscribe();
      expect(op.dropped).toEqual({ kinesisRecords: 1, userRecords: 3 });
      from([straddling]).pipe(op).subscribe();
      expect(op.dropped).toEqual({ kinesisRecords: 2, userRecords: 6 });
      expect(deaggregate().dropped).toEqual({ kinesisRecords: 0, userRecords: 0 });
    });

    it('routes by the explicit hash key, not the partition key, when there is one', () => {
      const record = kinesisRecord(encodeAggregated([{ partitionKey: 'b', data: 'x', explicitHashKey: '0' }, { partitionKey: 'a', data: 'y' }]));
      expect(run([record], { shardRange: LOWER_HALF }).length).toBe(2);
    });

    it('treats an explicit hash key that is not a uint128 decimal as outside the range', () => {
      // Another producer's blob: encodeAggregated refuses such a key, the unchecked builder does not.
      const builder = new AggregateBuilder();
      builder.add('a', 'nope', 'x');
      builder.add('a', undefined, 'y');
      const record = kinesisRecord(builder.encode());
      expect(run([record], { shardRange: { startingHashKey: 0n, endingHashKey: (1n << 128n) - 1n } })).toEqual([]);
    });

    it('never filters plain records', () => {
      expect(run([kinesisRecord(utf8('x'), 'b')], { shardRange: { startingHashKey: 0n, endingHashKey: 0n } }).length).toBe(1);
    });

    it('errors the stream when onDropped throws', () => {
      const source = new Subject<_Record>();
      const errors: unknown[] = [];
      source
        .pipe(
          deaggregate({
            shardRange: { startingHashKey: 0n, endingHashKey: 0n },
            onDropped: () => {
              throw new Error('callback failed');
            },
          }),
        )
        .subscribe({ error: (err: unknown) => errors.push(err) });
      source.next(A);
      expect(errors).toEqual([new Error('callback failed')]);
    });

    it.each([
      ['a start below 0', { startingHashKey: -1n, endingHashKey: 5n }, 'shardRange.startingHashKey'],
      ['an end before the start', { startingHashKey: 5n, endingHashKey: 4n }, 'shardRange.endingHashKey'],
      ['an end above 2^128 − 1', { startingHashKey: 0n, endingHashKey: 1n << 128n }, 'shardRange.endingHashKey'],
      ['a number instead of a bigint', { startingHashKey: 0 as unknown as bigint, endingHashKey: 5n }, 'shardRange.startingHashKey'],
    ])('throws a ValidationError for %s', (_name, shardRange, field) => {
      expect(() => deaggregate({ shardRange })).toThrow(ValidationError);
      expect(() => deaggregate({ shardRange })).toThrow(field);
    });
  });

  it('takes its options as one object', () => {
    // @ts-expect-error verifyChecksum belongs in the options object
    expect(() => deaggregate(false)).toThrow(ValidationError);
    // @ts-expect-error shard range ends are bigints
    expect(() => deaggregate({ shardRange: { startingHashKey: '0', endingHashKey: '1' } })).toThrow(ValidationError);
  });

  it.each([
    ['options', null],
    ['options', 5],
    ['onDropped', { onDropped: 5 }],
    ['verifyChecksum', { verifyChecksum: 'yes' }],
  ])('refuses a bad %s at creation (%p), not at the first dropped record', (field, options) => {
    expect(refusal(() => deaggregate(options as never)).field).toBe(field);
  });
});
