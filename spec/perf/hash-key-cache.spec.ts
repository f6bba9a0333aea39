import { createHash } from 'node:crypto';
import { clearHashKeyCache, HASH_KEY_CACHE_SIZE, hashKeyOfPartitionKey } from '../../lib/codec/hash';

const md5Hex = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');
const hex = (key: ArrayLike<number>): string => Buffer.from(Uint8Array.from(key)).toString('hex');

describe('hashKeyOfPartitionKey cache', () => {
  beforeEach(() => clearHashKeyCache());

  it('returns the same bytes for a key seen before (one shared, read-only key)', () => {
    const first = hashKeyOfPartitionKey('user-1');
    expect(hashKeyOfPartitionKey('user-1')).toBe(first);
    expect(hex(first)).toBe(md5Hex('user-1'));
  });

  it('hashes correctly across generations, beyond the cache size', () => {
    const n = HASH_KEY_CACHE_SIZE * 2 + 100;
    const keys = Array.from({ length: n }, (_, i) => `k-${i}`);
    for (const key of keys) expect(hex(hashKeyOfPartitionKey(key))).toBe(md5Hex(key));
    // Second pass: some hit, some were dropped and are hashed again; all still right.
    for (let i = 0; i < n; i += 97) expect(hex(hashKeyOfPartitionKey(keys[i]))).toBe(md5Hex(keys[i]));
  });

  it('keeps a key that is still in use when its generation ages out', () => {
    // Two hits per miss: the cache stays on while the cold keys fill and rotate the generations.
    const hot = hashKeyOfPartitionKey('hot');
    for (let i = 0; i < HASH_KEY_CACHE_SIZE * 3; i++) {
      hashKeyOfPartitionKey(`cold-${i}`);
      expect(hashKeyOfPartitionKey('hot')).toBe(hot);
      hashKeyOfPartitionKey('warm');
    }
    expect(hashKeyOfPartitionKey('hot')).toBe(hot);
  });

  it('hashes long and non-ASCII keys as UTF-8, cached or not', () => {
    const long = 'ü'.repeat(200);
    const first = hashKeyOfPartitionKey(long);
    expect(hex(first)).toBe(md5Hex(long));
    // Over 128 units: never kept (the cache's memory stays bounded), so hashed again.
    expect(hashKeyOfPartitionKey(long)).not.toBe(first);
    expect(hex(hashKeyOfPartitionKey(long))).toBe(md5Hex(long));
    const longest = 'k'.repeat(128);
    expect(hashKeyOfPartitionKey(longest)).toBe(hashKeyOfPartitionKey(longest));
    for (const key of ['é', '日本', '😀']) {
      expect(hex(hashKeyOfPartitionKey(key))).toBe(md5Hex(key));
      expect(hex(hashKeyOfPartitionKey(key))).toBe(md5Hex(key));
    }
  });
});

describe('hashKeyOfPartitionKey cache bypass', () => {
  beforeEach(() => clearHashKeyCache());

  it('hashes correctly while keys never repeat (the cache is bypassed), and caches again once they do', () => {
    for (let i = 0; i < 40000; i++) {
      const key = `cold-${i}`;
      if (i % 997 === 0) expect(hex(hashKeyOfPartitionKey(key))).toBe(md5Hex(key));
      else hashKeyOfPartitionKey(key);
    }
    // Bypassed now: a key asked twice is hashed twice (a cached key would be the same array).
    const cold = hashKeyOfPartitionKey('cold-again');
    expect(hashKeyOfPartitionKey('cold-again')).not.toBe(cold);
    expect(hex(cold)).toBe(md5Hex('cold-again'));
    for (let i = 0; i < 40000; i++) hashKeyOfPartitionKey(`hot-${i % 10}`);
    const hot = hashKeyOfPartitionKey('hot-1');
    expect(hashKeyOfPartitionKey('hot-1')).toBe(hot);
    expect(hex(hot)).toBe(md5Hex('hot-1'));
  });

  it('lets a cold cache warm up: a working set of 4,000 keys, asked in turn, is cached, not bypassed', () => {
    // The first windows are all misses (every key is new); bypassing then would keep the cache cold for good.
    const keys = Array.from({ length: 4000 }, (_, i) => `device-${i}`);
    const first = keys.map((key) => hashKeyOfPartitionKey(key));
    for (let round = 0; round < 3; round++) {
      keys.forEach((key, i) => expect(hashKeyOfPartitionKey(key)).toBe(first[i]));
    }
    expect(hex(first[1234])).toBe(md5Hex('device-1234'));
  });
});
