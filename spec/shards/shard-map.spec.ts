import type { ListShardsCommandOutput } from '@aws-sdk/client-kinesis';
import { Subject, throwError } from 'rxjs';
import { hashKeyOfPartitionKey, hashKeyToBigInt, MAX_HASH_KEY, partitionKeyToHashKey } from '../../lib/codec/hash';
import { ValidationError } from '../../lib/config';
import { ShardMap } from '../../lib/shards/shard-map';
import { awsError, evenShards, fakeClient, servePages, shard, shardIdOf, syncClient } from '../helpers/shards-fakes';

/** The owner by definition: the shard whose inclusive range holds the key. */
function owner(shards: ReturnType<typeof evenShards>, key: bigint): string | undefined {
  return shards.find((s) => BigInt(s.HashKeyRange!.StartingHashKey!) <= key && key <= BigInt(s.HashKeyRange!.EndingHashKey!))?.ShardId;
}

describe('ShardMap', () => {
  afterEach(() => jest.useRealTimers());

  describe('loading', () => {
    it('pages ListShards: the first page names the stream with AT_LATEST, later pages send only NextToken', async () => {
      const fake = syncClient(servePages(evenShards(12), 5));
      const map = new ShardMap({ client: fake.client, streamName: 'orders', refreshIntervalMs: 0 });
      await map.start();
      expect(fake.calls).toEqual([
        { StreamName: 'orders', MaxResults: 1000, ShardFilter: { Type: 'AT_LATEST' } },
        { NextToken: 'page-1', MaxResults: 1000 },
        { NextToken: 'page-2', MaxResults: 1000 },
      ]);
      expect(map.openShardIds).toHaveLength(12);
      map.close();
    });

    it('drops closed shards when the server ignores the filter (kinesalite lists every shard)', async () => {
      const parent = shard(0, 0n, MAX_HASH_KEY, true);
      const children = [shard(1, 0n, (1n << 127n) - 1n), shard(2, 1n << 127n, MAX_HASH_KEY)];
      const map = new ShardMap({ client: syncClient(servePages([parent, ...children])).client, streamName: 's', refreshIntervalMs: 0 });
      await map.start();
      expect(map.openShardIds).toEqual([shardIdOf(1), shardIdOf(2)]);
      expect(map.hashRange(shardIdOf(0))).toBeUndefined();
      map.close();
    });

    it('asks again without ShardFilter when the first page refuses it, and keeps it off', async () => {
      const serve = servePages(evenShards(2));
      const fake = fakeClient((input) =>
        input.ShardFilter !== undefined
          ? throwError(() => awsError('ValidationException', "Unknown parameter 'ShardFilter'"))
          : Promise.resolve(serve(input)),
      );
      const map = new ShardMap({ client: fake.client, streamName: 's', refreshIntervalMs: 0 });
      await map.start();
      expect(map.ready).toBe(true);
      map.invalidate(Number.POSITIVE_INFINITY);
      await new Promise((r) => setImmediate(r));
      expect(fake.calls.map((c) => c.ShardFilter?.Type ?? 'none')).toEqual(['AT_LATEST', 'none', 'none']);
      map.close();
    });

    it('resolves start() once, with the same promise on every call', async () => {
      const fake = fakeClient((input) => Promise.resolve(servePages(evenShards(4))(input)));
      const map = new ShardMap({ client: fake.client, streamName: 's', refreshIntervalMs: 0 });
      const first = map.start();
      expect(map.start()).toBe(first);
      expect(map.ready).toBe(false);
      await first;
      expect(map.ready).toBe(true);
      expect(fake.calls).toHaveLength(1);
      map.close();
    });

    it('rejects start() with an Error named after the AWS code when the stream does not exist, and stops', async () => {
      const fake = fakeClient(() => Promise.reject(awsError('ResourceNotFoundException', 'Stream nope not found')));
      const map = new ShardMap({ client: fake.client, streamName: 'nope' });
      await expect(map.start()).rejects.toMatchObject({ name: 'ResourceNotFoundException', message: 'Stream nope not found' });
      expect(map.failure).toEqual({ errorCode: 'ResourceNotFoundException', errorMessage: 'Stream nope not found' });
      expect(map.ready).toBe(false);
      map.invalidate(Number.POSITIVE_INFINITY);
      expect(fake.calls).toHaveLength(1);
      map.close();
    });

    it('rejects start() with AccessDeniedException likewise', async () => {
      const map = new ShardMap({ client: fakeClient(() => Promise.reject(awsError('AccessDeniedException'))).client, streamName: 's' });
      await expect(map.start()).rejects.toMatchObject({ name: 'AccessDeniedException' });
      map.close();
    });

    it('treats a synchronous throw of send() as a failed load', async () => {
      const fake = fakeClient(() => {
        throw awsError('ResourceNotFoundException');
      });
      const map = new ShardMap({ client: fake.client, streamName: 's' });
      await expect(map.start()).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      map.close();
    });

    it('rejects a pending start() with an AbortError on close()', async () => {
      const map = new ShardMap({ client: fakeClient(() => new Subject<ListShardsCommandOutput>()).client, streamName: 's' });
      const started = map.start();
      map.close();
      map.close();
      await expect(started).rejects.toMatchObject({ name: 'AbortError' });
    });
  });

  describe('prediction', () => {
    it('predicts nothing before the first load', () => {
      const map = new ShardMap({ client: fakeClient(() => new Subject<ListShardsCommandOutput>()).client, streamName: 's' });
      expect(map.predict(0n)).toBeUndefined();
      expect(map.predictKey(hashKeyOfPartitionKey('a'))).toBeUndefined();
      expect(map.openShardIds).toEqual([]);
      expect(map.updatedAt).toBe(Number.NEGATIVE_INFINITY);
    });

    it('finds the shard whose range holds the key, at and around every boundary', async () => {
      const shards = evenShards(7);
      const map = new ShardMap({ client: syncClient(servePages(shards)).client, streamName: 's', refreshIntervalMs: 0 });
      await map.start();
      const keys = [0n, MAX_HASH_KEY];
      for (const s of shards) {
        const start = BigInt(s.HashKeyRange!.StartingHashKey!);
        const end = BigInt(s.HashKeyRange!.EndingHashKey!);
        keys.push(start, end, end - 1n, start + 1n);
      }
      for (const key of keys) expect([key, map.predict(key)]).toEqual([key, owner(shards, key)]);
      map.close();
    });

    it('agrees with the bigint definition for partition keys and for keys tying on the top 48 bits', async () => {
      // Shard ends that share their top 48 bits force the exact 16-byte comparison.
      const base = 0x123456789abcn << 80n;
      const shards = [shard(0, 0n, base + 5n), shard(1, base + 6n, base + 1000n), shard(2, base + 1001n, MAX_HASH_KEY)];
      const map = new ShardMap({ client: syncClient(servePages(shards)).client, streamName: 's', refreshIntervalMs: 0 });
      await map.start();
      for (const key of [base, base + 5n, base + 6n, base + 1000n, base + 1001n, base - 1n]) expect(map.predict(key)).toBe(owner(shards, key));
      const even = evenShards(1000);
      const big = new ShardMap({ client: syncClient(servePages(even)).client, streamName: 's', refreshIntervalMs: 0 });
      await big.start();
      for (let i = 0; i < 300; i++) {
        const key = hashKeyOfPartitionKey(`key-${i}`);
        expect(big.predictKey(key)).toBe(owner(even, hashKeyToBigInt(key)));
      }
      expect(big.predict(partitionKeyToHashKey('user-123'))).toBe(owner(even, 250018372642977770877286195909578633128n));
      map.close();
      big.close();
    });

    it('predicts nothing for a key past every ending key', async () => {
      const map = new ShardMap({ client: syncClient(servePages([shard(0, 0n, 100n)])).client, streamName: 's', refreshIntervalMs: 0 });
      await map.start();
      expect(map.predict(100n)).toBe(shardIdOf(0));
      expect(map.predict(101n)).toBeUndefined();
      map.close();
    });

    it.each([[-1n], [MAX_HASH_KEY + 1n], [5]])('refuses predict(%p) with a ValidationError', (key) => {
      const map = new ShardMap({ client: syncClient(servePages(evenShards(1))).client, streamName: 's' });
      expect(() => map.predict(key as bigint)).toThrow(ValidationError);
    });
  });

  describe('options', () => {
    const client = syncClient(servePages(evenShards(1))).client;
    it.each([
      ['client', { client: {}, streamName: 's' }],
      ['streamName', { client, streamName: '' }],
      ['refreshIntervalMs', { client, streamName: 's', refreshIntervalMs: -1 }],
      ['closedShardTtlMs', { client, streamName: 's', closedShardTtlMs: Number.NaN }],
      ['minBackoffMs', { client, streamName: 's', minBackoffMs: 0 }],
      ['maxBackoffMs', { client, streamName: 's', minBackoffMs: 2000, maxBackoffMs: 1000 }],
      ['random', { client, streamName: 's', random: 0.5 }],
    ])('refuses a bad %s with a ValidationError naming it', (field, options) => {
      expect(() => new ShardMap(options as never)).toThrow(expect.objectContaining({ name: 'ValidationError', field }));
    });
  });

  describe('timers', () => {
    it('leaves no timer behind after close() while waiting out a backoff', async () => {
      jest.useFakeTimers();
      const fake = fakeClient(() => throwError(() => awsError('InternalFailure')));
      const map = new ShardMap({ client: fake.client, streamName: 's' });
      void map.start();
      expect(jest.getTimerCount()).toBe(1);
      map.close();
      expect(jest.getTimerCount()).toBe(0);
    });

    it('leaves no timer behind after close() with a refresh and a closed-shard purge pending', async () => {
      jest.useFakeTimers();
      let listing = evenShards(2);
      const map = new ShardMap({ client: syncClient((input) => servePages(listing)(input)).client, streamName: 's' });
      await map.start();
      expect(jest.getTimerCount()).toBe(1); // the periodic refresh
      listing = [shard(5, 0n, MAX_HASH_KEY)];
      map.invalidate(Number.POSITIVE_INFINITY);
      expect(jest.getTimerCount()).toBe(2); // refresh + purge of the two closed shards
      map.close();
      expect(jest.getTimerCount()).toBe(0);
    });

    it('unsubscribes the request in flight on close()', () => {
      const answer = new Subject<ListShardsCommandOutput>();
      const map = new ShardMap({ client: fakeClient(() => answer).client, streamName: 's' });
      void map.start();
      expect(answer.observed).toBe(true);
      map.close();
      expect(answer.observed).toBe(false);
    });
  });
});
