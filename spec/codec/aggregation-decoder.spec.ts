import { AggregationFormatError, decodeAggregated, encodeAggregated, isAggregated } from '../../lib/codec/aggregation';
import { fromHex, hex, seededBytes, utf8 } from '../helpers/codec-builders';
import { mulberry32 } from '../../lib/testing/mulberry32';
import { AGGREGATION_MAGIC, md5Bytes } from '../../lib/codec/aggregation-format';
import { frame } from '../helpers/codec-reference';

const AGG_EXAMPLE_HEX =
  'f3899ac20a05616c7068610a0462657461120531323334351a0908001a0568656c6c6f1a0b080110001a05776f726c64' +
  '1a0508001a012111269067d126ed775665423b5929b918';
const AIOKPL_GOLDEN_HEX = 'f3899ac20a01610a01621a0508001a01781a0508011a0179b0031909ae75891ca94acec2ecce3125';

/** Frames hand-written protobuf bytes (hex, spaces allowed) with magic and a correct MD5. */
const blob = (protobufHex: string): Uint8Array => new Uint8Array(frame(fromHex(protobufHex)));
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');
/** frame() without Buffer.concat: the fuzz loop frames 80,000 inputs. */
const quickFrame = (body: Uint8Array): Uint8Array => {
  const out = new Uint8Array(body.length + 20);
  out.set(AGGREGATION_MAGIC, 0);
  out.set(body, 4);
  out.set(md5Bytes(body), body.length + 4);
  return out;
};
const decodeError = (bytes: Uint8Array): AggregationFormatError => {
  try {
    decodeAggregated(bytes);
  } catch (err) {
    if (err instanceof AggregationFormatError) return err;
    throw err;
  }
  throw new Error('decoded without error');
};

/** PK table ["a"] (0a 01 61), the base of most fixtures. */
const PK_A = '0a0161';

describe('decodeAggregated', () => {
  it('reads the aws-kinesis-agg reference example (node-testing.md §3)', () => {
    const records = decodeAggregated(fromHex(AGG_EXAMPLE_HEX));
    expect(records.map((r) => [r.partitionKey, r.explicitHashKey, text(r.data)])).toEqual([
      ['alpha', undefined, 'hello'],
      ['beta', '12345', 'world'],
      ['alpha', undefined, '!'],
    ]);
    expect('explicitHashKey' in records[0]).toBe(false);
  });

  it('reads the aiokpl golden blob (aiokpl.md §8.4)', () => {
    const records = decodeAggregated(fromHex(AIOKPL_GOLDEN_HEX));
    expect(records.map((r) => [r.partitionKey, text(r.data)])).toEqual([
      ['a', 'x'],
      ['b', 'y'],
    ]);
  });

  it('returns data as views into the input, not copies', () => {
    const input = fromHex(AIOKPL_GOLDEN_HEX);
    const [first] = decodeAggregated(input);
    expect(first.data.buffer).toBe(input.buffer);
    expect(first.data.byteOffset).toBe(input.byteOffset + 16); // 4 magic + 0a0161 0a0162 1a05 0800 1a01
  });

  it('reads an input that is itself a view at an offset', () => {
    const backing = new Uint8Array(100);
    backing.set(fromHex(AIOKPL_GOLDEN_HEX), 30);
    const records = decodeAggregated(backing.subarray(30, 70));
    expect(records.map((r) => r.partitionKey)).toEqual(['a', 'b']);
  });

  it('round-trips large and multi-byte records', () => {
    const input = [
      { partitionKey: 'ключ-😀', explicitHashKey: String((1n << 128n) - 1n), data: seededBytes(70000, 1) },
      { partitionKey: '\ufeffbom', data: new Uint8Array(0) },
    ];
    const records = decodeAggregated(encodeAggregated(input));
    expect(records.map((r) => [r.partitionKey, r.explicitHashKey, hex(r.data)])).toEqual(
      input.map((r) => [r.partitionKey, r.explicitHashKey, hex(r.data)]),
    );
  });

  it('returns [] for an aggregated record holding no records', () => {
    expect(decodeAggregated(blob(''))).toEqual([]);
  });

  it('reads tables that come after the records that index them', () => {
    expect(decodeAggregated(blob('1a0508001a0178 0a0161')).map((r) => r.partitionKey)).toEqual(['a']);
  });

  it('keeps the last value of a repeated scalar field, as protobuf does', () => {
    const [record] = decodeAggregated(blob('0a0161 0a0162 1a07 0800 0801 1a0178'));
    expect(record.partitionKey).toBe('b');
  });

  describe('skips unknown fields', () => {
    // aiokpl's fixtures (aiokpl.md §8.4): f8 06 / fa 06 are field 111 as varint / length-delimited.
    it.each([
      ['a varint (aiokpl fixture)', 'f8062a'],
      ['a length-delimited field (aiokpl fixture)', 'fa0603616263'],
      ['a fixed64', '29 0102030405060708'],
      ['a fixed32', '2d 01020304'],
      ['a 10-byte varint', '28 ffffffffffffffffff01'],
    ])('%s at the top level and inside a record', (_name, unknown) => {
      const [record] = decodeAggregated(blob(`${unknown} ${PK_A} 1a${(4 + fromHex(unknown).length).toString(16).padStart(2, '0')} 0800 ${unknown} 1a00`));
      expect(record.partitionKey).toBe('a');
      expect(record.data.length).toBe(0);
    });

    it('reads and drops tags with a key', () => {
      const [record] = decodeAggregated(blob(`${PK_A} 1a0c 0800 1a0178 2205 0a016b 1200`));
      expect(text(record.data)).toBe('x');
    });
  });

  describe('rejects malformed input with an AggregationFormatError', () => {
    it.each([
      ['shorter than 20 bytes', 'f3899ac2' + '00'.repeat(15), /too short.*19 bytes/],
      ['no magic', '00899ac2' + '00'.repeat(16), /no aggregation magic/],
      ['a wrong MD5', AIOKPL_GOLDEN_HEX.slice(0, -2) + '00', /MD5 checksum mismatch/],
    ])('%s', (_name, input, message) => {
      const err = decodeError(fromHex(input));
      expect(err.name).toBe('AggregationFormatError');
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toMatch(message);
    });

    it.each([
      ['a partition key index outside the table (aiokpl fixture 08 05 1a 00)', `${PK_A} 1a04 0805 1a00`, /partition_key_index 5 outside the table of 1/],
      ['an explicit hash key index outside the table (aiokpl fixture)', `${PK_A} 1a06 0800 1005 1a00`, /explicit_hash_key_index 5 outside the table of 0/],
      ['a record without partition_key_index', `${PK_A} 1a02 1a00`, /no partition_key_index \(required\)/],
      ['a record without data', `${PK_A} 1a02 0800`, /no data \(required\)/],
      ['a tag without its key (aiokpl fixture 12 01 76)', `${PK_A} 1a09 0800 1a00 2203 120176`, /Tag without its required key/],
      ['a truncated varint (aiokpl: 80 80)', '8080', /truncated varint/],
      ['a varint over 10 bytes (aiokpl: 11 × 80)', '80'.repeat(11), /varint over 10 bytes/],
      ['a varint over 10 bytes inside a record', `${PK_A} 1a0d 08${'80'.repeat(10)}00 1a00`, /varint over 10 bytes/],
      ['a length past the end', '0a0561', /truncated partition_key_table entry: 5 bytes announced/],
      ['a record length past the end', `${PK_A} 1a09 0800`, /truncated record/],
      ['a data length past the record end', `${PK_A} 1a04 0800 1a05 6161616161`, /truncated data/],
      ['a truncated fixed64', '29 01020304', /truncated fixed64/],
      ['a truncated fixed32', '2d 0102', /truncated fixed32/],
      ['wire type 3 (start group)', '2b', /unsupported wire type 3/],
      ['wire type 4 (end group)', '2c', /unsupported wire type 4/],
      ['wire type 6', '2e', /unsupported wire type 6/],
      ['wire type 7', '2f', /unsupported wire type 7/],
      ['field number 0', '0000', /invalid field number 0/],
      ['a field number above 2^29 − 1', '80808080 10 00', /invalid field number/],
      ['a table entry with the wrong wire type', '0801', /partition_key_table entry \(field 1\) has wire type 0, expected 2/],
      ['an index with the wrong wire type', `${PK_A} 1a05 0a0100 1a00`, /partition_key_index \(field 1\) has wire type 2, expected 0/],
      ['invalid UTF-8 in a partition key', '0a02c328 1a04 0800 1a00', /invalid UTF-8 in partition_key_table entry/],
      ['invalid UTF-8 in an explicit hash key', `${PK_A} 1201ff 1a04 0800 1a00`, /invalid UTF-8 in explicit_hash_key_table entry/],
      ['an encoded surrogate (ED A0 80)', '0a03eda080', /invalid UTF-8/],
    ])('%s', (_name, protobufHex, message) => {
      const err = decodeError(blob(protobufHex));
      expect(err.name).toBe('AggregationFormatError');
      expect(err.message).toMatch(message);
    });
  });

  it('keeps a byte order mark at the start of a key', () => {
    const [record] = decodeAggregated(blob('0a04efbbbf61 1a04 0800 1a00'));
    expect(record.partitionKey).toBe('\ufeffa');
  });

  it('skips the MD5 check when verifyChecksum is false', () => {
    const corrupted = fromHex(AIOKPL_GOLDEN_HEX.slice(0, -2) + '00');
    expect(decodeAggregated(corrupted, { verifyChecksum: false }).map((r) => r.partitionKey)).toEqual(['a', 'b']);
  });

  it('decodes or throws an AggregationFormatError for 100,000 random and mutated inputs', () => {
    // Deterministic fuzz. Most mutations are re-framed with a correct MD5 (or read with
    // verifyChecksum false) so that they reach the protobuf reader instead of stopping at the checksum.
    const next = mulberry32(0xf022);
    const int = (n: number): number => Math.floor(next() * n);
    const corpus: Uint8Array[] = [
      fromHex(AGG_EXAMPLE_HEX),
      fromHex(AIOKPL_GOLDEN_HEX),
      blob(`${PK_A} 1a0c 0800 1a0178 2205 0a016b 1200`),
      blob('f8062a fa0603616263 29 0102030405060708 2d 01020304 0a0161 1a04 0800 1a00'),
      encodeAggregated(
        Array.from({ length: 40 }, (_, i) => ({
          partitionKey: i % 3 === 0 ? `ключ-${i % 7}` : `pk-${i % 11}`,
          explicitHashKey: i % 2 === 0 ? String(BigInt(i) * 10n ** 35n) : undefined,
          data: seededBytes(i % 5, i),
        })),
      ),
    ];
    const outcomes = { decoded: 0, rejected: 0 };
    const reasons = new Set<string>();
    const runs = 100000;
    // Stack traces are most of the cost of 50,000 throws; the messages are what is checked.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      for (let run = 0; run < runs; run++) {
        const base = corpus[int(corpus.length)];
        let body: Uint8Array = base.slice(4, base.length - 16);
        switch (run % 6) {
          case 0: // random bytes, no framing at all
            body = seededBytes(int(64), run);
            break;
          case 1: // bit flips
          case 2:
            for (let k = 1 + int(4); k > 0 && body.length > 0; k--) body[int(body.length)] ^= 1 << int(8);
            break;
          case 3: // truncation
            body = body.slice(0, int(body.length + 1));
            break;
          case 4: // extension with random bytes
            body = new Uint8Array([...body, ...seededBytes(1 + int(16), run)]);
            break;
          default: // random byte overwrites with protobuf-ish values
            for (let k = 1 + int(3); k > 0 && body.length > 0; k--) body[int(body.length)] = [0x80, 0xff, 0x00, 0x0a, 0x1a, 0x2b, 0x2d, 0x7f][int(8)];
        }
        const mode = int(10);
        const input = run % 6 === 0 && mode < 5 ? body : quickFrame(body);
        if (mode === 9 && input.length > 0) input[input.length - 1] ^= 1; // a broken checksum now and then
        try {
          const records = decodeAggregated(input, { verifyChecksum: mode < 7 });
          outcomes.decoded++;
          for (const r of records) {
            if (r.data.buffer !== input.buffer) throw new Error('data is not a view into the input');
            if (typeof r.partitionKey !== 'string') throw new Error('partition key is not a string');
          }
        } catch (err) {
          if (!(err instanceof AggregationFormatError)) throw err;
          outcomes.rejected++;
          reasons.add(err.message.replace(/[0-9]+/g, 'N').split(':')[0]);
        }
      }
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    expect(outcomes.decoded + outcomes.rejected).toBe(runs);
    expect(outcomes.decoded).toBeGreaterThan(5000);
    expect(outcomes.rejected).toBeGreaterThan(5000);
    expect(reasons.size).toBeGreaterThan(10);
  });
});

describe('isAggregated', () => {
  it('is true for 20 bytes or more that start with the magic', () => {
    expect(isAggregated(fromHex(AIOKPL_GOLDEN_HEX))).toBe(true);
    expect(isAggregated(fromHex('f3899ac2' + '00'.repeat(16)))).toBe(true);
  });

  it('is false for shorter input, other bytes, or plain data', () => {
    expect(isAggregated(fromHex('f3899ac2' + '00'.repeat(15)))).toBe(false);
    expect(isAggregated(fromHex('f3899ac3' + '00'.repeat(16)))).toBe(false);
    expect(isAggregated(utf8('hello, world, a plain record'))).toBe(false);
    expect(isAggregated(new Uint8Array(0))).toBe(false);
  });

  it('does not check the checksum', () => {
    expect(isAggregated(fromHex(AIOKPL_GOLDEN_HEX.slice(0, -2) + '00'))).toBe(true);
  });
});
