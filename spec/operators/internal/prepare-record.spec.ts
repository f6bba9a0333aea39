import { hashKeyOfPartitionKey, hashKeyToBigInt, MAX_HASH_KEY } from '../../../lib/codec/hash';
import { ValidationError } from '../../../lib/config';
import { prepareRecord, validateRecord, type PrepareRecordOptions } from '../../../lib/operators/internal/prepare-record';

const options: PrepareRecordOptions = { defaultStreamName: 'orders', maxUserRecordSize: 1024 };

function refusal(record: unknown, opts = options): ValidationError {
  try {
    prepareRecord(record, opts);
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('prepareRecord', () => {
  it('hashes the partition key with md5 and encodes string data as UTF-8', () => {
    const prepared = prepareRecord({ partitionKey: 'a', data: 'é€' }, options);
    expect(prepared.streamName).toBe('orders');
    expect(Array.from(prepared.data)).toEqual([0xc3, 0xa9, 0xe2, 0x82, 0xac]);
    expect(hashKeyToBigInt(prepared.hashKey)).toBe(16955237001963240173058271559858726497n);
    expect(prepared.explicitHashKey).toBeUndefined();
  });

  it('uses Uint8Array data as is, without copying it', () => {
    const data = new Uint8Array([1, 2, 3]);
    expect(prepareRecord({ partitionKey: 'k', data }, options).data).toBe(data);
    const buffer = Buffer.from('xyz');
    expect(prepareRecord({ partitionKey: 'k', data: buffer }, options).data).toBe(buffer);
  });

  it("prefers the record's own streamName to the default", () => {
    expect(prepareRecord({ partitionKey: 'k', data: '', streamName: 'audit' }, options).streamName).toBe('audit');
  });

  describe('partitionKey', () => {
    it('accepts 1 and 256 UTF-16 code units', () => {
      expect(() => prepareRecord({ partitionKey: 'x', data: '' }, options)).not.toThrow();
      expect(() => prepareRecord({ partitionKey: 'x'.repeat(256), data: '' }, options)).not.toThrow();
    });

    it.each([
      ['257 characters', 'x'.repeat(257)],
      ['0 characters', ''],
      ['129 emoji (258 UTF-16 units)', '😀'.repeat(129)],
      ['a number', 42],
      ['missing', undefined],
    ])('refuses %s', (_label, partitionKey) => {
      const err = refusal({ partitionKey, data: '' });
      expect(err.field).toBe('partitionKey');
      expect(err.message).toMatch(/^partitionKey is .*; allowed: a string of 1–256 UTF-16 code units$/);
    });

    it('counts emoji in UTF-16 units, as Java does: 128 emoji are 256 units', () => {
      const prepared = prepareRecord({ partitionKey: '😀'.repeat(128), data: '' }, options);
      expect(prepared.hashKey).toEqual(hashKeyOfPartitionKey('😀'.repeat(128)));
    });
  });

  describe('data', () => {
    it('accepts data exactly at maxUserRecordSize, partition key not counted', () => {
      expect(prepareRecord({ partitionKey: 'k'.repeat(256), data: new Uint8Array(1024) }, options).data.length).toBe(1024);
      expect(prepareRecord({ partitionKey: 'k', data: 'é'.repeat(512) }, options).data.length).toBe(1024);
    });

    it('refuses one byte over, counting strings in UTF-8 bytes', () => {
      expect(refusal({ partitionKey: 'k', data: new Uint8Array(1025) }).message).toBe('data is Uint8Array(1025); allowed: at most 1024 bytes');
      const err = refusal({ partitionKey: 'k', data: 'é'.repeat(512) + 'x' });
      expect(err.field).toBe('data');
      expect(err.allowed).toBe('at most 1024 bytes (this string is 1025 bytes as UTF-8)');
    });

    it.each([[null], [42], [[1, 2]], [new ArrayBuffer(2)], [undefined]])('refuses %p', (data) => {
      expect(refusal({ partitionKey: 'k', data }).allowed).toBe('a Uint8Array or a string');
    });
  });

  describe('explicitHashKey (aiokpl.md §8.4 vectors)', () => {
    it.each([
      ['0', 0n],
      ['1', 1n],
      ['123456789', 123456789n],
      [MAX_HASH_KEY.toString(), MAX_HASH_KEY],
    ])('accepts %s and stores it', (text, value) => {
      const prepared = prepareRecord({ partitionKey: 'k', data: '', explicitHashKey: text }, options);
      expect(prepared.explicitHashKey).toBe(value.toString());
      expect(hashKeyToBigInt(prepared.hashKey)).toBe(value);
    });

    // The last three: leading zeros (ARCHITECTURE.md asks for a canonical decimal; the KPL's Java wrapper would re-print them).
    it.each(['', ' 1', '1 ', '+1', '-1', '1_000', '0x10', '1.0', 'abc', '1e10', '١', (1n << 128n).toString(), ((1n << 128n) + 1000n).toString(), '000123', '00', '0'.repeat(50) + '7'])(
      'refuses %p',
      (text) => {
        expect(refusal({ partitionKey: 'k', data: '', explicitHashKey: text }).field).toBe('explicitHashKey');
      },
    );

    it('refuses a non-string', () => {
      expect(refusal({ partitionKey: 'k', data: '', explicitHashKey: 5 }).field).toBe('explicitHashKey');
      expect(refusal({ partitionKey: 'k', data: '', explicitHashKey: null }).field).toBe('explicitHashKey');
    });
  });

  describe('streamName', () => {
    it.each([
      ['missing everywhere', {}, { maxUserRecordSize: 1024 }],
      ['empty on the record', { streamName: '' }, options],
      ['blank on the record', { streamName: '  ' }, options],
      ['not a string', { streamName: 7 }, options],
    ])('refuses a stream name %s', (_label, extra, opts) => {
      expect(refusal({ partitionKey: 'k', data: '', ...extra }, opts).field).toBe('streamName');
    });
  });

  it.each([[null], ['text'], [42], [[]]])('refuses a record that is not an object: %p', (record) => {
    expect(refusal(record).field).toBe('record');
  });
});

describe('prepareRecord: well-formed UTF-16 and unreadable records', () => {
  const options = { defaultStreamName: 's', maxUserRecordSize: 1048576 };
  it.each(['\uD800', 'a\uDC00b', 'x\uDBFF'])('refuses the partition key %p with a lone surrogate', (partitionKey) => {
    expect(() => prepareRecord({ partitionKey, data: 'x' }, options)).toThrow(/partitionKey .*well-formed UTF-16/);
  });
  it('accepts a key with a proper surrogate pair (an emoji)', () => {
    expect(() => prepareRecord({ partitionKey: '😀', data: 'x' }, options)).not.toThrow();
  });
  it('refuses string data with a lone surrogate, which UTF-8 would silently change', () => {
    expect(() => prepareRecord({ partitionKey: 'k', data: 'ok\uD800' }, options)).toThrow(/data .*well-formed/);
  });
  it('refuses a record whose getter throws as a ValidationError on the record', () => {
    const hostile = Object.defineProperty({ partitionKey: 'k' }, 'data', {
      get: () => {
        throw new Error('boom');
      },
    });
    expect(() => prepareRecord(hostile, options)).toThrow(ValidationError);
    expect(() => prepareRecord(hostile, options)).toThrow(/record .*boom/);
  });
});

describe('validateRecord', () => {
  const options = { defaultStreamName: 's', maxUserRecordSize: 64 };
  const bad: unknown[] = [
    null,
    { data: 'x' },
    { partitionKey: 'x'.repeat(257), data: 'x' },
    { partitionKey: '\uD800', data: 'x' },
    { partitionKey: 'k', data: 7 },
    { partitionKey: 'k', data: 'é'.repeat(33) }, // 33 characters, 66 bytes as UTF-8
    { partitionKey: 'k', data: 'x', explicitHashKey: '-1' },
    { partitionKey: 'k', data: 'x', streamName: ' ' },
  ];
  it.each(bad.map((r, i) => [i, r]))('refuses bad record #%i on the same field as prepareRecord', (_i, record) => {
    const fieldOf = (fn: () => unknown): string | undefined => {
      try {
        fn();
        return undefined;
      } catch (err) {
        return (err as ValidationError).field;
      }
    };
    const field = fieldOf(() => validateRecord(record, options));
    expect(field).toBeDefined();
    expect(field).toBe(fieldOf(() => prepareRecord(record, options)));
  });
  it('reads the fields without encoding or hashing them', () => {
    const checked = validateRecord({ partitionKey: 'k', data: 'héllo', explicitHashKey: '7' }, options);
    expect(checked).toEqual({ partitionKey: 'k', data: 'héllo', explicitHashKey: 7n, streamName: 's' });
  });
});
