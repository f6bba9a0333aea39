import { decodeAggregated, encodeAggregated } from '../../lib/codec/aggregation';

describe('encodeAggregated output buffers', () => {
  it('never lets a later output overwrite an earlier one (outputs share slabs)', () => {
    const outputs: { blob: Uint8Array; seed: number }[] = [];
    // ~50 KB each: several slabs' worth, plus outputs of odd sizes.
    for (let seed = 0; seed < 60; seed++) {
      const count = seed % 3 === 0 ? 3 : 400 + seed;
      const records = Array.from({ length: count }, (_, i) => ({
        partitionKey: `pk-${seed}-${i % 7}`,
        data: Uint8Array.from({ length: 100 + (seed % 5) }, (_, j) => (seed * 31 + i * 7 + j) & 0xff),
      }));
      outputs.push({ blob: encodeAggregated(records), seed });
    }
    for (const { blob, seed } of outputs) {
      const decoded = decodeAggregated(blob);
      expect(decoded[0].partitionKey).toBe(`pk-${seed}-0`);
      const last = decoded[decoded.length - 1];
      const i = decoded.length - 1;
      expect(Array.from(last.data.subarray(0, 3))).toEqual([0, 1, 2].map((j) => (seed * 31 + i * 7 + j) & 0xff));
    }
  });

  it('gives a large output a buffer of its own', () => {
    const blob = encodeAggregated([
      { partitionKey: 'a', data: new Uint8Array(600000) },
      { partitionKey: 'b', data: new Uint8Array(10) },
    ]);
    expect(blob.byteOffset).toBe(0);
    expect(blob.buffer.byteLength).toBe(blob.length);
  });
});
