import { encodeAggregated } from '../../lib/codec/aggregation';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('encodeAggregated', () => {
  it('writes the aws-kinesis-agg reference example byte for byte (node-testing.md §3)', () => {
    const blob = encodeAggregated([
      { partitionKey: 'alpha', data: utf8('hello') },
      { partitionKey: 'beta', data: utf8('world'), explicitHashKey: '12345' },
      { partitionKey: 'alpha', data: utf8('!') },
    ]);
    expect(blob.length).toBe(71);
    expect(hex(blob)).toBe(
      'f3899ac2' +
        '0a05616c706861' + '0a0462657461' + '12053132333435' +
        '1a0908001a0568656c6c6f' +
        '1a0b080110001a05776f726c64' +
        '1a0508001a0121' +
        '11269067d126ed775665423b5929b918',
    );
  });

  it('writes the aiokpl two-record golden blob (aiokpl.md §8.4)', () => {
    const blob = encodeAggregated([
      { partitionKey: 'a', data: 'x' },
      { partitionKey: 'b', data: 'y' },
    ]);
    expect(hex(blob)).toBe('f3899ac20a01610a01621a0508001a01781a0508011a0179b0031909ae75891ca94acec2ecce3125');
  });

  it('throws for 0 records', () => {
    expect(() => encodeAggregated([])).toThrow(/0 records/);
  });
});
