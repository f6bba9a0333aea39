import fc from 'fast-check';
import { AggregateBuilder, encodeAggregated } from '../../lib/codec/aggregation';
import { AGGREGATION_OVERHEAD, utf8Length, varintLength } from '../../lib/codec/size';
import { recordSetArbitrary } from '../helpers/codec-builders';

describe('varintLength', () => {
  it.each([
    [0, 1],
    [1, 1],
    [127, 1],
    [128, 2],
    [300, 2],
    [16383, 2],
    [16384, 3],
    [2 ** 21 - 1, 3],
    [2 ** 21, 4],
    [2 ** 28 - 1, 4],
    [2 ** 28, 5],
    [2 ** 35 - 1, 5],
    [2 ** 35, 6],
    [2 ** 49, 8],
    [Number.MAX_SAFE_INTEGER, 8],
  ])('gives %d as %d bytes', (n, bytes) => {
    expect(varintLength(n)).toBe(bytes);
  });
});

describe('utf8Length', () => {
  it.each([
    ['', 0],
    ['a', 1],
    ['é', 2],
    ['€', 3],
    ['😀', 4],
    ['\ud800', 3], // a lone high surrogate becomes U+FFFD
    ['\udc00', 3], // a lone low surrogate too
    ['\ud800a', 4],
    ['a\ud83d', 4],
    // Long enough to be counted natively: the same rules.
    [`${'a'.repeat(30)}\ud800é😀\udc00`, 30 + 3 + 2 + 4 + 3],
  ])('counts %j as %d bytes', (text, bytes) => {
    expect(utf8Length(text)).toBe(bytes);
  });

  it('equals the TextEncoder length for any string, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 100 }), (text) => {
        expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
      }),
      { numRuns: 3000, seed: 8 },
    );
  });

  it('equals the TextEncoder length for long strings too (counted natively above 24 units)', () => {
    const unit = fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xd800, max: 0xdfff }));
    fc.assert(
      fc.property(fc.string({ unit: unit.map((c) => String.fromCharCode(c)), minLength: 25, maxLength: 300 }), (text) => {
        expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
      }),
      { numRuns: 1000, seed: 9 },
    );
  });
});

// The exact size formula (size.ts), as AggregateBuilder applies it.
describe('AggregateBuilder sizes', () => {
  const bytes = (n: number): Uint8Array => new Uint8Array(n);

  it('is 0 when empty, the data length for one record, the aggregated length above', () => {
    const builder = new AggregateBuilder();
    expect([builder.size, builder.count, builder.aggregatedSize]).toEqual([0, 0, AGGREGATION_OVERHEAD]);
    builder.add('alpha', undefined, bytes(5));
    expect(builder.size).toBe(5);
    builder.add('beta', '12345', bytes(5));
    builder.add('alpha', undefined, bytes(1));
    expect(builder.size).toBe(71); // the aws-kinesis-agg example, node-testing.md §3
  });

  it('equals the encoded length, for 2,000 random record sets', () => {
    fc.assert(
      fc.property(recordSetArbitrary(40, 300), (records) => {
        const builder = new AggregateBuilder();
        const half = records.length >> 1;
        let predictedRight = true;
        records.forEach((r, i) => {
          const predicted = builder.sizeIfAdded(r.partitionKey, r.explicitHashKey, r.data.length);
          builder.add(r.partitionKey, r.explicitHashKey, r.data);
          predictedRight &&= builder.size === predicted;
          if (i === half - 1) expect(builder.aggregatedSize).toBe(encodeAggregated(records.slice(0, half)).length);
        });
        expect(predictedRight).toBe(true);
        expect(builder.size).toBe(records.length === 1 ? records[0].data.length : encodeAggregated(records).length);
        expect(builder.aggregatedSize).toBe(builder.encode().length);
        builder.clear();
        expect(builder.size).toBe(0);
      }),
      { numRuns: 2000, seed: 9 },
    );
  });

  it('counts multi-byte varints exactly for large records and many keys', () => {
    const records = Array.from({ length: 200 }, (_, i) => ({
      partitionKey: `ключ-${i}-${'😀'.repeat(i % 70)}`,
      explicitHashKey: i % 3 === 0 ? String(2n ** BigInt(i % 128)) : undefined,
      data: new Uint8Array(i === 7 ? 2 ** 21 + 5 : i * 3),
    }));
    const builder = new AggregateBuilder();
    for (const r of records) builder.add(r.partitionKey, r.explicitHashKey, r.data);
    expect(builder.size).toBe(encodeAggregated(records).length);
    expect(builder.encode().length).toBe(builder.size);
  });
});
