import { prepareRecord } from '../../lib/operators/internal/prepare-record';

/**
 * A string record's bytes are a slice of a shared pool, not an ArrayBuffer of their own: with
 * 100,000 records outstanding, one ArrayBuffer each cost ~300 B more per record (the JS object,
 * the native backing store) and gave the GC 100,000 buffers to sweep (writable-rss.bench.ts).
 */
describe('string data encoding', () => {
  const options = { defaultStreamName: 's', maxUserRecordSize: 1048576 };

  it('puts the short strings of consecutive records in shared buffers, bytes exact', () => {
    const texts = Array.from({ length: 20 }, (_, i) => `record ${i} é`);
    const data = texts.map((text) => prepareRecord({ partitionKey: 'k', data: text }, options).data);
    // Node's pool is 8 KiB: 20 short records fill one, or cross into a second at most.
    expect(new Set(data.map((d) => d.buffer)).size).toBeLessThanOrEqual(2);
    data.forEach((d, i) => expect(Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('utf8')).toBe(texts[i]));
  });
});
