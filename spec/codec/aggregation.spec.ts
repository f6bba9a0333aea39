import fc from 'fast-check';
import { AggregateBuilder, AggregationFormatError, decodeAggregated, encodeAggregated, encodeBufferedRecords, writeVarint } from '../../lib/codec/aggregation';
import { aggDecode, aggEncode, aggReordersKey } from '../helpers/codec-agg';
import { bufferedRecord, hex, recordSetArbitrary, seededBytes, utf8 } from '../helpers/codec-builders';
import { referenceDecode, referenceEncode } from '../helpers/codec-reference';
import { refusal } from '../helpers/refusal';

/** The aws-kinesis-agg README example (node-testing.md §3): 71 bytes. */
const AGG_EXAMPLE = [
  { partitionKey: 'alpha', data: utf8('hello') },
  { partitionKey: 'beta', data: utf8('world'), explicitHashKey: '12345' },
  { partitionKey: 'alpha', data: utf8('!') },
];
const AGG_EXAMPLE_HEX =
  'f3899ac2' +
  '0a05616c706861' + '0a0462657461' + '12053132333435' +
  '1a0908001a0568656c6c6f' + // pk_idx 0, no ehk_idx, "hello"
  '1a0b080110001a05776f726c64' + // pk_idx 1, ehk_idx 0, "world"
  '1a0508001a0121' + // pk_idx 0, "!"
  '11269067d126ed775665423b5929b918'; // md5 of the protobuf part

/** aiokpl `test_golden_bytes_two_record_blob` (aiokpl.md §8.4): 40 bytes. */
const AIOKPL_GOLDEN_HEX = 'f3899ac20a01610a01621a0508001a01781a0508011a0179b0031909ae75891ca94acec2ecce3125';

/** Byte equality, shown as hex only when it fails (hex of every blob would dominate the run time). */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  if (Buffer.compare(actual, expected) !== 0) expect(hex(actual)).toBe(hex(expected));
}

/** What protobufjs reads in a blob, as records. */
function fromReference(blob: Uint8Array): { partitionKey: string | undefined; explicitHashKey?: string; data: Uint8Array }[] {
  const message = referenceDecode(blob);
  return message.records.map((r) => ({
    partitionKey: message.partition_key_table[r.partition_key_index],
    explicitHashKey:
      r.explicit_hash_key_index === undefined ? undefined : message.explicit_hash_key_table[r.explicit_hash_key_index],
    data: r.data,
  }));
}

describe('encodeAggregated', () => {
  it('writes the aws-kinesis-agg reference example byte for byte (node-testing.md §3)', () => {
    const blob = encodeAggregated(AGG_EXAMPLE);
    expect(blob.length).toBe(71);
    expect(hex(blob)).toBe(AGG_EXAMPLE_HEX);
  });

  it('writes the aiokpl two-record golden blob (aiokpl.md §8.4)', () => {
    const blob = encodeAggregated([
      { partitionKey: 'a', data: 'x' },
      { partitionKey: 'b', data: utf8('y') },
    ]);
    expect(blob.length).toBe(40);
    expect(hex(blob)).toBe(AIOKPL_GOLDEN_HEX);
  });

  it('writes the aggregated form for a single record', () => {
    expect(hex(encodeAggregated([{ partitionKey: 'a', data: 'x' }]))).toBe(
      hex(referenceEncode([{ partitionKey: 'a', data: 'x' }])),
    );
  });

  it('throws a clear Error for 0 records', () => {
    expect(() => encodeAggregated([])).toThrow('encodeAggregated: cannot aggregate 0 records');
  });

  it('writes string data as UTF-8, multi-byte characters included', () => {
    const records = [
      { partitionKey: 'ключ', data: 'héllo wörld ✓ 😀' },
      { partitionKey: '😀', data: 'x'.repeat(300) + '€' },
    ];
    expect(hex(encodeAggregated(records))).toBe(hex(referenceEncode(records)));
  });

  it('writes a lone surrogate as U+FFFD, the length utf8Length counts', () => {
    const blob = encodeAggregated([
      { partitionKey: 'a\ud800', data: '\udc00b' },
      { partitionKey: 'b', data: '' },
    ]);
    const builder = new AggregateBuilder();
    builder.add('a\ud800', undefined, '\udc00b');
    builder.add('b', undefined, '');
    expect(blob.length).toBe(builder.aggregatedSize);
    const [first] = decodeAggregated(blob);
    expect(first.partitionKey).toBe('a\ufffd');
    expect(Buffer.from(first.data).toString('utf8')).toBe('\ufffdb');
  });

  it('de-duplicates key tables in first-seen order, integer-like keys included', () => {
    // aws-kinesis-agg would list "7" and "3" first (plain-object key order); the KPL keeps first-seen order.
    const records = [
      { partitionKey: 'z', data: 'a', explicitHashKey: '99999999999999999999' },
      { partitionKey: '7', data: 'b', explicitHashKey: '3' },
      { partitionKey: 'z', data: 'c', explicitHashKey: '3' },
      { partitionKey: '3', data: 'd' },
    ];
    const decoded = referenceDecode(encodeAggregated(records));
    expect(decoded.partition_key_table).toEqual(['z', '7', '3']);
    expect(decoded.explicit_hash_key_table).toEqual(['99999999999999999999', '3']);
    expect(decoded.records.map((r) => r.partition_key_index)).toEqual([0, 1, 0, 2]);
    expect(decoded.records.map((r) => r.explicit_hash_key_index)).toEqual([0, 1, 1, undefined]);
    expect(hex(encodeAggregated(records))).toBe(hex(referenceEncode(records)));
  });

  it('reads the out-of-range index aws-kinesis-agg writes for a "__proto__" key as malformed', () => {
    // Their plain-object table cannot hold "__proto__": the key is left out of the table, yet
    // counted, so the next key's index points past the table's end.
    const theirs = aggEncode([
      { partitionKey: '__proto__', data: 'a' },
      { partitionKey: 'b', data: 'b' },
    ]);
    expect(referenceDecode(theirs).partition_key_table).toEqual(['b']);
    expect(() => decodeAggregated(theirs)).toThrow(new AggregationFormatError('record 1: partition_key_index 1 outside the table of 1'));
  });

  it('omits the explicit hash key index of records without one', () => {
    const decoded = referenceDecode(encodeAggregated(AGG_EXAMPLE));
    expect(decoded.records.map((r) => Object.prototype.hasOwnProperty.call(r, 'explicit_hash_key_index'))).toEqual([
      false,
      true,
      false,
    ]);
  });

  it('writes multi-byte varints for large indices, lengths and records', () => {
    const records = Array.from({ length: 300 }, (_, i) => ({
      partitionKey: `pk-${i}`,
      explicitHashKey: String(10n ** 30n + BigInt(i)),
      data: seededBytes(i === 5 ? 20000 : 100, i),
    }));
    expect(hex(encodeAggregated(records))).toBe(hex(referenceEncode(records)));
  });

  it('equals aws-kinesis-agg bytes, and each reads the other, for random record sets', () => {
    // Caveat (their bug): aws-kinesis-agg keeps key tables in plain objects, whose keys list
    // integer-like strings ("7", an EHK below 2^32 − 1) first in numeric order, while each record's
    // index is the first-seen counter. So when a set holds such a key, its table order differs from
    // the KPL's, and its indices can even point at the wrong key (measured: EHKs "1" then "0" come
    // out swapped). For those sets we compare our bytes with the protobufjs reference instead, and
    // check that we read their blob exactly as protobufjs does.
    let compared = 0;
    let reordered = 0;
    fc.assert(
      fc.property(recordSetArbitrary(200, 2048), (records) => {
        const ours = encodeAggregated(records);
        const theirs = aggEncode(records);
        const integerLike = records.some(
          (r) => aggReordersKey(r.partitionKey) || (r.explicitHashKey !== undefined && aggReordersKey(r.explicitHashKey)),
        );
        if (integerLike) {
          reordered++;
          expectSameBytes(ours, referenceEncode(records));
        } else {
          compared++;
          expectSameBytes(ours, theirs);
        }
        // aws-kinesis-agg reads ours back intact (its data is base64; it reports table[0] as the
        // EHK of records without one, node-testing.md §3 quirk 1, so only given EHKs are compared).
        const read = aggDecode(ours);
        expect(read.length).toBe(records.length);
        const readBack = read.every(
          (r, i) =>
            r.PartitionKey === records[i].partitionKey &&
            (records[i].explicitHashKey === undefined || r.ExplicitPartitionKey === records[i].explicitHashKey) &&
            r.Data === Buffer.from(records[i].data).toString('base64'),
        );
        expect(readBack).toBe(true);
        // We read theirs: the records themselves, or (integer-like keys) what protobufjs reads in it.
        // With a "__proto__" key their index points past the table's end, and we say so.
        const expected = integerLike ? fromReference(theirs) : records;
        if (expected.some((r) => r.partitionKey === undefined)) {
          expect(() => decodeAggregated(theirs)).toThrow(AggregationFormatError);
          return;
        }
        const decoded = decodeAggregated(theirs);
        expect(decoded.length).toBe(expected.length);
        const same = decoded.every(
          (r, i) =>
            r.partitionKey === expected[i].partitionKey &&
            r.explicitHashKey === expected[i].explicitHashKey &&
            Buffer.compare(r.data, expected[i].data) === 0,
        );
        expect(same).toBe(true);
      }),
      { numRuns: 1000, seed: 20240601 },
    );
    expect(compared).toBeGreaterThan(300);
    expect(reordered).toBeGreaterThan(30);
  });

  it.each([
    ['records', { partitionKey: 'a', data: 'x' }],
    ['records[1]', [{ partitionKey: 'a', data: 'x' }, null]],
    ['records[0].partitionKey', [{ partitionKey: 5, data: 'x' }]],
    ['records[0].data', [{ partitionKey: 'a', data: 5 }]],
    ['records[0].data', [{ partitionKey: 'a', data: [1, 2] }]],
    // A key the KCL cannot parse would make the whole aggregated record unreadable for it.
    ['records[1].explicitHashKey', [{ partitionKey: 'a', data: 'x' }, { partitionKey: 'b', data: 'y', explicitHashKey: 'zz' }]],
    ['records[0].explicitHashKey', [{ partitionKey: 'a', data: 'x', explicitHashKey: (1n << 128n).toString() }]],
    ['records[0].explicitHashKey', [{ partitionKey: 'a', data: 'x', explicitHashKey: 5 }]],
  ])('refuses bad input with a ValidationError naming %s (not a RangeError, not a poison record)', (field, records) => {
    expect(refusal(() => encodeAggregated(records as never)).field).toBe(field);
  });

  it('accepts an explicit hash key with leading zeros and writes it as given (aws-kinesis-agg does; the KCL reads it as its value)', () => {
    const blob = encodeAggregated([{ partitionKey: 'a', data: 'x', explicitHashKey: '007' }, { partitionKey: 'b', data: 'y' }]);
    expect(decodeAggregated(blob).map((r) => r.explicitHashKey)).toEqual(['007', undefined]);
  });
});

describe('AggregateBuilder key lookups', () => {
  /** The bytes of `records` built by plain `add`s. */
  const expected = (records: { partitionKey: string; data: Uint8Array }[]): Uint8Array => encodeAggregated(records);

  it('sizeIfAdded then add of a different key (new or known) writes the same bytes as plain adds', () => {
    const b = new AggregateBuilder();
    b.add('a', undefined, utf8('1'));
    b.add('b', undefined, utf8('2'));
    // Asked about a new key, then given a known one; asked about a known key, then given a new one.
    b.sizeIfAdded('new', undefined, 1);
    b.add('b', undefined, utf8('3'));
    b.sizeIfAdded('a', undefined, 1);
    b.add('c', undefined, utf8('4'));
    // Asked about a new key, then given another new key, then the one asked about.
    b.sizeIfAdded('d', undefined, 1);
    b.add('e', undefined, utf8('5'));
    const sizeOfD = b.sizeIfAdded('d', undefined, 1);
    b.add('d', undefined, utf8('6'));
    expect(b.size).toBe(sizeOfD);
    const blob = b.encode();
    expect(blob.length).toBe(b.aggregatedSize);
    expectSameBytes(
      blob,
      expected([
        { partitionKey: 'a', data: utf8('1') },
        { partitionKey: 'b', data: utf8('2') },
        { partitionKey: 'b', data: utf8('3') },
        { partitionKey: 'c', data: utf8('4') },
        { partitionKey: 'e', data: utf8('5') },
        { partitionKey: 'd', data: utf8('6') },
      ]),
    );
  });

  it('forgets what sizeIfAdded learned when the table changes (removeLast, clear)', () => {
    const b = new AggregateBuilder();
    b.add('a', undefined, utf8('1'));
    b.add('x', undefined, utf8('2'));
    b.sizeIfAdded('y', undefined, 1); // 'y' would be index 2
    b.removeLast(); // 'x' leaves the table: the next new key is index 1
    b.add('y', undefined, utf8('3'));
    expectSameBytes(b.encode(), expected([{ partitionKey: 'a', data: utf8('1') }, { partitionKey: 'y', data: utf8('3') }]));
    b.clear();
    b.add('p', undefined, utf8('1'));
    b.add('q', undefined, utf8('2'));
    b.sizeIfAdded('q', undefined, 1); // index 1 in this table
    b.clear();
    b.add('z', undefined, utf8('1'));
    b.add('q', undefined, utf8('2'));
    expectSameBytes(b.encode(), expected([{ partitionKey: 'z', data: utf8('1') }, { partitionKey: 'q', data: utf8('2') }]));
  });

  it('writes keys of 127, 128 and more UTF-8 bytes, multi-byte characters and lone surrogates as their UTF-8', () => {
    const keys = ['k'.repeat(127), 'k'.repeat(128), 'é'.repeat(64), '€'.repeat(256), 'a\ud800b', '\udc00'.repeat(50), '😀'.repeat(40)];
    const records = keys.map((k, i) => ({ partitionKey: k, data: utf8(String(i)) }));
    const b = new AggregateBuilder();
    for (const r of records) {
      const size = b.sizeIfAdded(r.partitionKey, undefined, r.data.length);
      b.add(r.partitionKey, undefined, r.data);
      expect(b.size).toBe(size);
    }
    const blob = b.encode();
    expect(blob.length).toBe(b.aggregatedSize);
    const table = referenceDecode(blob).partition_key_table;
    expect(table.map((k) => Buffer.from(k, 'utf8'))).toEqual(keys.map((k) => Buffer.from(new TextEncoder().encode(k))));
  });
});

describe('encodeBufferedRecords', () => {
  const records = AGG_EXAMPLE.map((r) => bufferedRecord(r.partitionKey, r.data, r.explicitHashKey));

  it('writes the same bytes as encodeAggregated', () => {
    expect(hex(encodeBufferedRecords(records))).toBe(AGG_EXAMPLE_HEX);
  });

  it('accepts the exact size from AggregateBuilder', () => {
    const builder = new AggregateBuilder();
    for (const r of records) builder.add(r.record.partitionKey, r.explicitHashKey, r.data);
    expect(encodeBufferedRecords(records, builder.aggregatedSize).length).toBe(71);
  });

  it('throws when the given size is not the encoded size', () => {
    expect(() => encodeBufferedRecords(records, 70)).toThrow('size 70 given, but the records encode to 71 bytes');
  });

  it('uses the canonical explicit hash key of the buffered record, not the text the user gave', () => {
    const blob = encodeBufferedRecords([bufferedRecord('a', 'x', '007'), bufferedRecord('b', 'y', '7')]);
    expect(referenceDecode(blob).explicit_hash_key_table).toEqual(['7']);
  });

  it('throws for 0 records', () => {
    expect(() => encodeBufferedRecords([])).toThrow(/0 records/);
  });
});

describe('writeVarint', () => {
  const write = (n: number): string => {
    const out = new Uint8Array(10);
    return hex(out.subarray(0, writeVarint(out, 0, n)));
  };

  it('writes the aiokpl vectors (aiokpl.md §8.4) up to 2^53 − 1', () => {
    // The writer takes safe integers; aiokpl's 2^63−1 → ffffffffffffffff7f is out of its range.
    expect(write(0)).toBe('00');
    expect(write(1)).toBe('01');
    expect(write(127)).toBe('7f');
    expect(write(128)).toBe('8001');
    expect(write(300)).toBe('ac02');
    expect(write(2 ** 32 - 1)).toBe('ffffffff0f');
    expect(write(2 ** 32)).toBe('8080808010');
    expect(write(Number.MAX_SAFE_INTEGER)).toBe('ffffffffffffff0f');
  });

  it('matches protobufjs for random safe integers', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Writer } = require('protobufjs') as typeof import('protobufjs');
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        expect(write(n)).toBe(hex(Writer.create().uint64(n).finish()));
      }),
      { numRuns: 2000, seed: 7 },
    );
  });
});
