import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { md5 } from 'js-md5';
import {
  bigIntToHashKey,
  clearHashKeyCache,
  compareHashKeys,
  hashKeyOfPartitionKey,
  hashKeyToBigInt,
  hashKeyToDecimal,
  hashKeyTop48,
  MAX_HASH_KEY,
  parseDecimalHashKey,
  parseExplicitHashKey,
  partitionKeyToHashKey,
} from '../../lib/codec/hash';
import { ValidationError } from '../../lib/config';
import { mulberry32 } from '../../lib/testing/mulberry32';
import { hex } from '../helpers/codec-builders';

const bytesHex = (key: ArrayLike<number>): string => hex(Uint8Array.from(key));

describe('partitionKeyToHashKey', () => {
  // aiokpl.md §8.4: computed with aiokpl's md5_hash_key.
  it.each([
    ['a', 16955237001963240173058271559858726497n],
    ['b', 195289424170611159128911017612795795343n],
    ['pk', 38317986088707300215492326132921849533n],
    ['user-123', 250018372642977770877286195909578633128n],
    ['hello', 123957004363873451094272536567338222994n],
    ['', 281949768489412648962353822266799178366n],
    ['alpha', 58606826522850340945736240254012750329n],
  ])('hashes %j to the aiokpl vector', (pk, expected) => {
    expect(partitionKeyToHashKey(pk)).toBe(expected);
  });

  it('reads the md5 digest big-endian (kpl.md §3)', () => {
    expect(bytesHex(hashKeyOfPartitionKey('a'))).toBe('0cc175b9c0f1b6a831c399e269772661');
    expect(bytesHex(hashKeyOfPartitionKey('user-123'))).toBe('bc17c97c3d897d43b7e07ca0266eafa8');
    expect(bytesHex(hashKeyOfPartitionKey(''))).toBe('d41d8cd98f00b204e9800998ecf8427e');
  });

  it('hashes the UTF-8 bytes, as node:crypto does, for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (pk) => {
        const digest = createHash('md5').update(pk, 'utf8').digest('hex');
        expect(bytesHex(hashKeyOfPartitionKey(pk))).toBe(digest);
        expect(partitionKeyToHashKey(pk)).toBe(BigInt('0x' + digest));
      }),
      { numRuns: 2000, seed: 3 },
    );
  });

  it.each([5, undefined, null, new Uint8Array([97])])('refuses %p with a ValidationError naming partitionKey (not js-md5\'s "input is invalid type")', (pk) => {
    expect(() => partitionKeyToHashKey(pk as never)).toThrow(ValidationError);
    expect(() => partitionKeyToHashKey(pk as never)).toThrow(/^partitionKey is .*; allowed: a string$/);
  });
});

describe('the MD5 of a partition key, every length and kind of character', () => {
  const crypto = (key: string): string => createHash('md5').update(key, 'utf8').digest('hex');
  const utf8 = new TextEncoder();
  /** The hash key both ways (uncached, and through the cache from empty), checked against node:crypto and js-md5 over the UTF-8 bytes. */
  const check = (key: string): void => {
    const want = crypto(key);
    clearHashKeyCache();
    const got = bytesHex(hashKeyOfPartitionKey(key));
    const uncached = partitionKeyToHashKey(key).toString(16).padStart(32, '0');
    const jsMd5 = md5.hex(utf8.encode(key));
    if (got !== want || uncached !== want || jsMd5 !== want) {
      throw new Error(`md5 of ${JSON.stringify(key)}: ${got} / ${uncached}, node:crypto ${want}, js-md5 ${jsMd5}`);
    }
  };
  // One or more units each: ASCII at both ends of the range, 2-byte, 3-byte (below and above the
  // surrogates), a surrogate pair (4 bytes). Not lone surrogates: js-md5 given a string pairs a lone
  // surrogate with the next unit instead of hashing U+FFFD, the bytes node:crypto, utf8Length and
  // the key table use; the producer refuses such keys (prepare-record.ts).
  const units = ['a', '\u0000', '\u007f', '\u0080', '\u00e9', '\u07ff', '\u0800', '\u4e2d', '\ud7ff', '\ue000', '\uffff', '\ud83d\ude00', '\udbff\udfff'];

  it('equals node:crypto and js-md5 for every length 0–256 of each kind of character', () => {
    for (const unit of units) {
      for (let length = 0; length <= 256; length++) {
        check(unit.repeat(length));
        check('k'.repeat(length) + unit); // the odd unit last, across the 55/56-byte padding boundary of one MD5 block
        check(unit + 'k'.repeat(length));
      }
    }
  });

  it('equals node:crypto for ASCII keys of every length 0–256 with every byte value', () => {
    for (let length = 0; length <= 256; length++) {
      let key = '';
      for (let i = 0; i < length; i++) key += String.fromCharCode((i * 37 + length) & 0x7f);
      check(key);
    }
  });

  it('equals node:crypto and js-md5 for 100,000 random keys of mixed characters', () => {
    const random = mulberry32(9);
    const pick = (n: number): number => Math.floor(random() * n);
    for (let run = 0; run < 100_000; run++) {
      // Mostly short keys (the one-block path), some long; mostly ASCII, some of every other kind.
      const length = random() < 0.9 ? pick(60) : pick(300);
      const mixed = random() < 0.5;
      let key = '';
      for (let i = 0; i < length; i++) {
        key += mixed && random() < 0.2 ? units[pick(units.length)] : String.fromCharCode(32 + pick(95));
      }
      check(key);
    }
  });
});

describe('parseExplicitHashKey', () => {
  // aiokpl.md §8.4 accept and reject lists.
  it.each(['0', '1', '123456789', MAX_HASH_KEY.toString()])('accepts %j', (text) => {
    expect(parseExplicitHashKey(text)).toBe(BigInt(text));
  });

  it.each([
    '',
    ' 1',
    '1 ',
    '+1',
    '-1',
    '1_000',
    '0x10',
    '1.0',
    'abc',
    '1e10',
    '\u0661', // Arabic-Indic digit one
    (1n << 128n).toString(),
    ((1n << 128n) + 1000n).toString(),
  ])('rejects %j', (text) => {
    expect(parseExplicitHashKey(text)).toBeUndefined();
  });

  it('refuses leading zeros: only a canonical decimal (ARCHITECTURE.md "Record validation"; the KPL would re-print 007 as 7)', () => {
    for (const text of ['007', '00', '01', '0'.repeat(50) + MAX_HASH_KEY.toString(), '0'.repeat(60)]) {
      expect(parseExplicitHashKey(text)).toBeUndefined();
    }
    expect(parseExplicitHashKey('0')).toBe(0n);
    expect(parseExplicitHashKey('10')).toBe(10n);
    expect(parseExplicitHashKey(MAX_HASH_KEY.toString())).toBe(MAX_HASH_KEY);
  });

  it('rejects a value that is not a string', () => {
    expect(parseExplicitHashKey(7 as unknown as string)).toBeUndefined();
  });
});

describe('parseDecimalHashKey (the codec and deaggregate: any decimal, as the KCL reads one)', () => {
  it('accepts leading zeros and returns the value', () => {
    expect(parseDecimalHashKey('007')).toBe(7n);
    expect(parseDecimalHashKey('0'.repeat(50) + MAX_HASH_KEY.toString())).toBe(MAX_HASH_KEY);
    expect(parseDecimalHashKey('0'.repeat(60))).toBe(0n);
  });

  it.each(['', ' 1', '+1', '-1', '0x10', '1e10', '\u0661', (1n << 128n).toString(), '0' + (1n << 128n).toString()])('rejects %j', (text) => {
    expect(parseDecimalHashKey(text)).toBeUndefined();
  });

  it('agrees with parseExplicitHashKey on every canonical decimal', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_HASH_KEY }), (n) => {
        expect(parseDecimalHashKey(n.toString())).toBe(n);
        expect(parseExplicitHashKey(n.toString())).toBe(n);
      }),
      { numRuns: 500, seed: 12 },
    );
  });
});

describe('hash key conversions', () => {
  const uint128 = fc.bigInt({ min: 0n, max: MAX_HASH_KEY });

  it('round-trips bigint → bytes → bigint and decimal', () => {
    fc.assert(
      fc.property(uint128, (value) => {
        const key = bigIntToHashKey(value);
        expect(key.length).toBe(16);
        expect(hashKeyToBigInt(key)).toBe(value);
        expect(hashKeyToDecimal(key)).toBe(value.toString());
        expect(bytesHex(key)).toBe(value.toString(16).padStart(32, '0'));
      }),
      { numRuns: 2000, seed: 4 },
    );
  });

  it('converts the extremes', () => {
    expect(bytesHex(bigIntToHashKey(0n))).toBe('0'.repeat(32));
    expect(bytesHex(bigIntToHashKey(MAX_HASH_KEY))).toBe('f'.repeat(32));
    expect(hashKeyToDecimal(bigIntToHashKey(MAX_HASH_KEY))).toBe('340282366920938463463374607431768211455');
  });

  it('refuses values outside [0, 2^128 − 1]', () => {
    expect(() => bigIntToHashKey(-1n)).toThrow(RangeError);
    expect(() => bigIntToHashKey(MAX_HASH_KEY + 1n)).toThrow(RangeError);
  });

  it('takes the top 48 bits as an exact number', () => {
    expect(hashKeyTop48(bigIntToHashKey(MAX_HASH_KEY))).toBe(2 ** 48 - 1);
    expect(hashKeyTop48(bigIntToHashKey(1n << 80n))).toBe(1);
    expect(hashKeyTop48(bigIntToHashKey((1n << 80n) - 1n))).toBe(0);
    fc.assert(
      fc.property(uint128, (value) => {
        expect(hashKeyTop48(bigIntToHashKey(value))).toBe(Number(value >> 80n));
      }),
      { numRuns: 1000, seed: 5 },
    );
  });

  it('compares hash keys as the integers they are', () => {
    expect(compareHashKeys(bigIntToHashKey(1n), bigIntToHashKey(2n))).toBe(-1);
    expect(compareHashKeys(bigIntToHashKey(MAX_HASH_KEY), bigIntToHashKey(0n))).toBe(1);
    expect(compareHashKeys(hashKeyOfPartitionKey('a'), bigIntToHashKey(partitionKeyToHashKey('a')))).toBe(0);
    fc.assert(
      fc.property(uint128, uint128, (a, b) => {
        expect(compareHashKeys(bigIntToHashKey(a), bigIntToHashKey(b))).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
      { numRuns: 2000, seed: 6 },
    );
  });
});
