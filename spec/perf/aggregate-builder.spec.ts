import fc from 'fast-check';
import { AggregateBuilder, encodeAggregated, type AggregationInput } from '../../lib/codec/aggregation';

const record = fc.record({
  partitionKey: fc.constantFrom('a', 'b', 'pk-1', 'ü-key', '日本'),
  explicitHashKey: fc.option(fc.constantFrom('0', '1', '340282366920938463463374607431768211455'), { nil: undefined }),
  data: fc.uint8Array({ maxLength: 200 }),
});

function build(records: readonly AggregationInput[]): AggregateBuilder {
  const builder = new AggregateBuilder();
  for (const r of records) builder.add(r.partitionKey, r.explicitHashKey, r.data);
  return builder;
}

function plain(records: readonly { partitionKey: string; explicitHashKey: string | undefined; data: Uint8Array }[]): AggregationInput[] {
  return records.map((r) => (r.explicitHashKey === undefined ? { partitionKey: r.partitionKey, data: r.data } : r) as AggregationInput);
}

describe('AggregateBuilder', () => {
  it('encodes the same bytes as encodeAggregated, with the sizes of the exact formula', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 40 }), (generated) => {
        const records = plain(generated);
        const builder = build(records);
        const blob = builder.encode();
        expect(Buffer.from(blob).equals(Buffer.from(encodeAggregated(records)))).toBe(true);
        expect(builder.size).toBe(records.length === 1 ? (records[0].data as Uint8Array).length : blob.length);
        expect(builder.aggregatedSize).toBe(blob.length);
      }),
      { numRuns: 300 },
    );
  });

  it('predicts the size an add makes, without changing anything', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 30 }), record, (generated, next) => {
        const builder = build(plain(generated));
        const predicted = builder.sizeIfAdded(next.partitionKey, next.explicitHashKey, next.data.length);
        const before = builder.encode();
        expect(Buffer.from(builder.encode()).equals(Buffer.from(before))).toBe(true);
        builder.add(next.partitionKey, next.explicitHashKey, next.data);
        expect(builder.size).toBe(predicted);
      }),
      { numRuns: 300 },
    );
  });

  it('undoes the last add exactly (new keys leave the tables)', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 30 }), record, (generated, last) => {
        const records = plain(generated);
        const builder = build(records);
        builder.add(last.partitionKey, last.explicitHashKey, last.data);
        builder.removeLast();
        expect(builder.count).toBe(records.length);
        expect(Buffer.from(builder.encode()).equals(Buffer.from(encodeAggregated(records)))).toBe(true);
        // And it goes on building correctly after the undo.
        builder.add('z', undefined, Uint8Array.of(1));
        expect(Buffer.from(builder.encode()).equals(Buffer.from(encodeAggregated([...records, { partitionKey: 'z', data: Uint8Array.of(1) }])))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('builds correctly again after clear(), one builder for many aggregated records', () => {
    const builder = new AggregateBuilder();
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 30 }), (generated) => {
        const records = plain(generated);
        for (const r of records) builder.add(r.partitionKey, r.explicitHashKey, r.data);
        expect(Buffer.from(builder.encode()).equals(Buffer.from(encodeAggregated(records)))).toBe(true);
        builder.clear();
        expect([builder.count, builder.size]).toEqual([0, 0]);
      }),
      { numRuns: 300 },
    );
    // A giant record grows the staging buffer; clear() lets it go and the builder goes on.
    builder.add('a', undefined, new Uint8Array(300000).fill(7));
    builder.add('b', undefined, Uint8Array.of(1));
    builder.encode();
    builder.clear();
    builder.add('c', undefined, Uint8Array.of(2));
    builder.add('d', '5', Uint8Array.of(3));
    const expected = encodeAggregated([{ partitionKey: 'c', data: Uint8Array.of(2) }, { partitionKey: 'd', explicitHashKey: '5', data: Uint8Array.of(3) }]);
    expect(Buffer.from(builder.encode()).equals(Buffer.from(expected))).toBe(true);
  });

  it('refuses to encode nothing and to undo twice', () => {
    const builder = new AggregateBuilder();
    expect(() => builder.encode()).toThrow('0 records');
    builder.add('a', undefined, Uint8Array.of(1));
    builder.removeLast();
    expect(() => builder.removeLast()).toThrow('nothing to undo');
  });
});
