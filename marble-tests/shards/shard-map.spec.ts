/**
 * The timing rules of ShardMap on virtual time: the fake client answers with cold Observables, so
 * the whole map runs inside TestScheduler.run() (a Promise would never settle there, STYLE.md §3).
 */
import type { ListShardsCommandInput, ListShardsCommandOutput, Shard } from '@aws-sdk/client-kinesis';
import { type Observable, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { MAX_HASH_KEY } from '../../lib/codec/hash';
import { ShardMap, type ShardMapOptions } from '../../lib/shards/shard-map';
import { awsError, evenShards, fakeClient, pages, servePages, shard, shardIdOf } from '../../spec/helpers/shards-fakes';

type Cold = (marbles: string, values?: Record<string, ListShardsCommandOutput>, error?: unknown) => Observable<ListShardsCommandOutput>;

describe('ShardMap on virtual time', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  /** Runs `body` on virtual time with helpers: `at(t, fn)` runs fn at frame t. */
  function run(body: (h: { cold: Cold; at: (t: number, fn: () => void) => void }) => void): void {
    scheduler.run(({ cold }) => {
      body({ cold: cold as Cold, at: (t, fn) => void scheduler.schedule(fn, t) });
    });
  }

  function makeMap(answer: (input: ListShardsCommandInput, call: number) => Observable<ListShardsCommandOutput>, options: Partial<ShardMapOptions> = {}) {
    const fake = fakeClient(answer);
    const callTimes: number[] = [];
    const client = {
      send: (command: never) => {
        callTimes.push(scheduler.now());
        return fake.client.send(command);
      },
    } as unknown as ShardMapOptions['client'];
    const map = new ShardMap({ client, streamName: 's', scheduler, random: () => 0, refreshIntervalMs: 0, ...options });
    return { map, calls: fake.calls, callTimes };
  }

  const listing = (shards: Shard[]): ListShardsCommandOutput => pages(shards, 1000)[0];

  describe('backoff', () => {
    it('waits 1000, 1500, 2250, … ms (×3/2, integer) up to 30000 after each failed load', () => {
      let calls: number[] = [];
      run(({ at }) => {
        const m = makeMap(() => throwError(() => awsError('InternalFailure')));
        calls = m.callTimes;
        void m.map.start();
        at(200000, () => m.map.close());
      });
      const waits = calls.slice(1).map((t, i) => t - calls[i]);
      expect(waits.slice(0, 11)).toEqual([1000, 1500, 2250, 3375, 5062, 7593, 11389, 17083, 25624, 30000, 30000]);
    });

    it('shortens each wait by at most 20% of it as jitter', () => {
      const randoms = [0.999999, 0.5, 0, 0.25, 0.999999, 0.75];
      let calls: number[] = [];
      run(({ at }) => {
        let i = 0;
        const m = makeMap(() => throwError(() => awsError('InternalFailure')), { random: () => randoms[i++ % randoms.length] });
        calls = m.callTimes;
        void m.map.start();
        at(30000, () => m.map.close());
      });
      const bases = [1000, 1500, 2250, 3375, 5062, 7593];
      const waits = calls.slice(1, 7).map((t, i) => t - calls[i]);
      expect(waits).toEqual(bases.map((b, i) => Math.round(b * (1 - 0.2 * randoms[i]))));
      waits.forEach((w, i) => {
        expect(w).toBeGreaterThanOrEqual(Math.floor(bases[i] * 0.8));
        expect(w).toBeLessThanOrEqual(bases[i]);
      });
    });

    it('starts again from 1000 ms after a successful load', () => {
      let calls: number[] = [];
      run(({ at, cold }) => {
        // calls 1–2 fail, 3 succeeds; then invalidate: calls 4–5 fail, 6 succeeds
        const m = makeMap((_input, call) => ([3, 6].includes(call) ? cold('r|', { r: listing(evenShards(2)) }) : throwError(() => awsError('InternalFailure'))));
        calls = m.callTimes;
        void m.map.start();
        at(10000, () => m.map.invalidate(9999));
        at(20000, () => m.map.close());
      });
      expect(calls).toEqual([0, 1000, 2500, 10000, 11000, 12500]);
    });

    it('restarts from page 1 when a later page fails', () => {
      let inputs: ListShardsCommandInput[] = [];
      let times: number[] = [];
      run(({ at, cold }) => {
        const serve = servePages(evenShards(12), 5);
        const m = makeMap((input, call) => (call === 3 ? throwError(() => awsError('InternalFailure')) : cold('-r|', { r: serve(input) })));
        inputs = m.calls;
        times = m.callTimes;
        void m.map.start();
        at(5000, () => {
          expect(m.map.openShardIds).toHaveLength(12);
          m.map.close();
        });
      });
      expect(inputs.map((i) => i.NextToken ?? 'first')).toEqual(['first', 'page-1', 'page-2', 'first', 'page-1', 'page-2']);
      expect(times).toEqual([0, 1, 2, 1002, 1003, 1004]);
    });
  });

  describe('invalidate', () => {
    /** A map loaded at frame 2 whose every refresh answers 5 frames later; returns the calls count probe. */
    function loaded(cold: Cold, shardsOf: (call: number) => Shard[] = () => evenShards(4)) {
      return makeMap((_input, call) => cold(call === 1 ? '--r|' : '-----r|', { r: listing(shardsOf(call)) }));
    }

    it('ignores a seenAt that is not after the last load (the request was older than the map)', () => {
      let count = 0;
      run(({ cold, at }) => {
        const m = loaded(cold);
        void m.map.start();
        at(10, () => m.map.invalidate(2, shardIdOf(1))); // updatedAt is 2
        at(20, () => m.map.invalidate(1));
        at(50, () => {
          count = m.calls.length;
          m.map.close();
        });
      });
      expect(count).toBe(1);
    });

    it('refreshes for a newer seenAt with a predicted shard that is still open', () => {
      let count = 0;
      let updatedAt = 0;
      run(({ cold, at }) => {
        const m = loaded(cold);
        void m.map.start();
        at(10, () => m.map.invalidate(3, shardIdOf(1)));
        at(50, () => {
          count = m.calls.length;
          updatedAt = m.map.updatedAt;
          m.map.close();
        });
      });
      expect([count, updatedAt]).toEqual([2, 15]);
    });

    it('folds invalidations into the refresh already running', () => {
      let count = 0;
      run(({ cold, at }) => {
        const m = loaded(cold);
        void m.map.start();
        at(10, () => m.map.invalidate(3));
        at(12, () => m.map.invalidate(11));
        at(14, () => m.map.invalidate(13, shardIdOf(2)));
        at(50, () => {
          count = m.calls.length;
          m.map.close();
        });
      });
      expect(count).toBe(2);
    });

    it('ignores a predicted shard that is no longer open (already refreshed), but refreshes with none', () => {
      const counts: number[] = [];
      run(({ cold, at }) => {
        // after the refresh at 10 the stream has 8 shards with new ids
        const m = loaded(cold, (call) => (call === 1 ? evenShards(4) : evenShards(8, 4)));
        void m.map.start();
        at(10, () => m.map.invalidate(3, shardIdOf(0)));
        at(30, () => m.map.invalidate(20, shardIdOf(0))); // shard 0 closed at 15: already refreshed
        at(31, () => counts.push(m.calls.length));
        at(40, () => m.map.invalidate(20)); // a record landed on a shard the map does not know
        at(60, () => {
          counts.push(m.calls.length);
          m.map.close();
        });
      });
      expect(counts).toEqual([2, 3]);
    });

    it('keeps answering from the old snapshot while a refresh is pending', () => {
      const seen: (string | undefined)[] = [];
      run(({ cold, at }) => {
        const m = makeMap((_input, call) =>
          cold(call === 1 ? '--r|' : '100ms r|', { r: listing(call === 1 ? [shard(0, 0n, MAX_HASH_KEY)] : [shard(1, 0n, MAX_HASH_KEY)]) }),
        );
        void m.map.start();
        at(1, () => seen.push(m.map.predict(7n)));
        at(10, () => m.map.invalidate(5, shardIdOf(0)));
        at(50, () => seen.push(m.map.predict(7n), String(m.map.ready)));
        at(109, () => seen.push(m.map.predict(7n)));
        at(111, () => seen.push(m.map.predict(7n))); // the answer lands at 10 + 100
        at(200, () => m.map.close());
      });
      expect(seen).toEqual([undefined, shardIdOf(0), 'true', shardIdOf(0), shardIdOf(1)]);
    });

    it('keeps the old snapshot when a refresh fails, and retries it with backoff', () => {
      const seen: (string | undefined)[] = [];
      let times: number[] = [];
      run(({ cold, at }) => {
        const m = makeMap((_input, call) =>
          call === 2 ? throwError(() => awsError('ResourceNotFoundException')) : cold('r|', { r: listing([shard(call, 0n, MAX_HASH_KEY)]) }),
        );
        times = m.callTimes;
        void m.map.start();
        at(10, () => m.map.invalidate(5));
        at(500, () => seen.push(m.map.predict(7n), String(m.map.failure)));
        at(1011, () => seen.push(m.map.predict(7n))); // retried at 10 + 1000
        at(2000, () => m.map.close());
      });
      // ResourceNotFound after a first success is transient: the stream may be being re-created
      expect(seen).toEqual([shardIdOf(1), 'undefined', shardIdOf(3)]);
      expect(times).toEqual([0, 10, 1010]);
    });
  });

  describe('periodic refresh', () => {
    it('reloads refreshIntervalMs after each load, so a stale map converges without errors', () => {
      let times: number[] = [];
      const seen: (string | undefined)[] = [];
      run(({ cold, at }) => {
        const m = makeMap((_input, call) => cold('-r|', { r: listing([shard(call, 0n, MAX_HASH_KEY)]) }), { refreshIntervalMs: 60000 });
        times = m.callTimes;
        void m.map.start();
        at(30000, () => m.map.invalidate(20000)); // a refresh in between re-arms the timer
        at(95000, () => seen.push(m.map.predict(0n)));
        at(150000, () => m.map.close());
      });
      // loads land at 1, 30001, 90002; the next periodic call would be at 150002
      expect(times).toEqual([0, 30000, 90001]);
      expect(seen).toEqual([shardIdOf(3)]);
    });

    it('does not reload when refreshIntervalMs is 0', () => {
      let count = 0;
      run(({ cold, at }) => {
        const m = makeMap(() => cold('-r|', { r: listing(evenShards(2)) }), { refreshIntervalMs: 0 });
        void m.map.start();
        at(600000, () => {
          count = m.calls.length;
          m.map.close();
        });
      });
      expect(count).toBe(1);
    });
  });

  describe('closed shards', () => {
    it('keeps the range of a shard that left the open set for closedShardTtlMs, then forgets it', () => {
      const seen: unknown[] = [];
      const parent = shard(0, 0n, MAX_HASH_KEY);
      const children = [shard(1, 0n, (1n << 127n) - 1n), shard(2, 1n << 127n, MAX_HASH_KEY)];
      run(({ cold, at }) => {
        const m = makeMap((_input, call) => cold('r|', { r: listing(call === 1 ? [parent] : children) }));
        void m.map.start();
        at(100, () => m.map.invalidate(50)); // the split is seen: parent closed at 100
        at(60099, () => seen.push(m.map.hashRange(shardIdOf(0))));
        at(60100, () => seen.push(m.map.hashRange(shardIdOf(0)), m.map.hashRange(shardIdOf(1))));
        at(70000, () => m.map.close());
      });
      expect(seen).toEqual([
        { startingHashKey: 0n, endingHashKey: MAX_HASH_KEY },
        undefined,
        { startingHashKey: 0n, endingHashKey: (1n << 127n) - 1n },
      ]);
    });

    it('purges with a timer, and a shard that reappears as open loses its closed marker', () => {
      const seen: unknown[] = [];
      const a = shard(0, 0n, MAX_HASH_KEY);
      const b = shard(1, 0n, MAX_HASH_KEY);
      run(({ cold, at }) => {
        // loads: a (0), b (100: a closed), a again (200: a reopens, b closed)
        const m = makeMap((_input, call) => cold('r|', { r: listing(call === 2 ? [b] : [a]) }), { closedShardTtlMs: 1000 });
        void m.map.start();
        at(100, () => m.map.invalidate(50));
        at(200, () => m.map.invalidate(150));
        at(5000, () => seen.push(m.map.hashRange(shardIdOf(0)), m.map.hashRange(shardIdOf(1)), m.map.openShardIds));
        at(6000, () => m.map.close());
      });
      expect(seen).toEqual([{ startingHashKey: 0n, endingHashKey: MAX_HASH_KEY }, undefined, [shardIdOf(0)]]);
    });
  });

  describe('terminal failures', () => {
    it('stops for good when the first load finds no stream: failure set, no retry', () => {
      let count = 0;
      let failure: unknown;
      let rejected: unknown;
      run(({ cold, at }) => {
        const m = makeMap(() => cold('--#', {}, awsError('ResourceNotFoundException', 'Stream s under account 0 not found.')));
        m.map.start().catch((err: unknown) => (rejected = err));
        at(100000, () => {
          count = m.calls.length;
          failure = m.map.failure;
          m.map.invalidate(99999);
          m.map.close();
        });
      });
      expect(count).toBe(1);
      expect(failure).toEqual({ errorCode: 'ResourceNotFoundException', errorMessage: 'Stream s under account 0 not found.' });
      return Promise.resolve().then(() => expect(rejected).toMatchObject({ name: 'ResourceNotFoundException' }));
    });

    it('retries any other first-load error until it succeeds', () => {
      let ready = false;
      run(({ cold, at }) => {
        const m = makeMap((_input, call) =>
          call < 4 ? cold('-#', {}, awsError(call === 1 ? 'LimitExceededException' : 'TimeoutError')) : cold('-r|', { r: listing(evenShards(2)) }),
        );
        void m.map.start();
        at(4760, () => (ready = m.map.ready));
        at(4800, () => m.map.close());
      });
      // calls at 0, 1001, 2502, 4753 (each answers 1 frame later); ready at 4754
      expect(ready).toBe(true);
    });
  });

  it('cancels every timer on close(): nothing runs afterwards', () => {
    let count = 0;
    run(({ cold, at }) => {
      const m = makeMap(() => cold('-r|', { r: listing(evenShards(2)) }), { refreshIntervalMs: 1000 });
      void m.map.start();
      at(2500, () => {
        m.map.close();
        count = m.calls.length;
      });
      at(10000, () => expect(m.calls.length).toBe(count));
    });
    expect(count).toBe(3);
  });
  describe('refreshedSince (a record landed on a shard the map does not know)', () => {
    /** A map loaded at frame 2 (load begun at 0) whose every refresh answers 5 frames later. */
    function loaded(cold: Cold) {
      return makeMap((_input, call) => cold(call === 1 ? '--r|' : '-----r|', { r: listing(evenShards(4)) }));
    }

    /** Subscribes at frame t and records when (and whether) it emits and completes. */
    function watch(map: ShardMap, at: (t: number, fn: () => void) => void, t: number, since: number, log: string[]): void {
      at(t, () =>
        map.refreshedSince(since).subscribe({
          next: () => log.push(`${since}: loaded at ${scheduler.now()}`),
          complete: () => log.push(`${since}: done at ${scheduler.now()}`),
        }),
      );
    }

    it('emits at once when the snapshot was loaded by a ListShards begun at or after since', () => {
      const log: string[] = [];
      let calls = 0;
      run(({ cold, at }) => {
        const m = loaded(cold);
        void m.map.start();
        watch(m.map, at, 5, 0, log);
        at(50, () => {
          calls = m.calls.length;
          m.map.close();
        });
      });
      expect(log).toEqual(['0: loaded at 5', '0: done at 5']);
      expect(calls).toBe(1);
    });

    it('begins a load without the invalidate debounce and emits when it is installed', () => {
      const log: string[] = [];
      let calls = 0;
      run(({ cold, at }) => {
        const m = loaded(cold);
        void m.map.start();
        watch(m.map, at, 10, 10, log); // the snapshot's load began at 0 < 10: load at 10, answered at 15
        at(50, () => {
          calls = m.calls.length;
          m.map.close();
        });
      });
      expect(log).toEqual(['10: loaded at 15', '10: done at 15']);
      expect(calls).toBe(2);
    });

    it('shares a running load with the waiters it covers and begins one more right after it for the others', () => {
      const log: string[] = [];
      let times: number[] = [];
      run(({ cold, at }) => {
        const m = loaded(cold);
        void m.map.start();
        at(10, () => m.map.invalidate(3)); // a load begins at 10, installed at 15
        watch(m.map, at, 12, 8, log); // covered by the load begun at 10
        watch(m.map, at, 13, 12, log); // not covered: another load at 15, installed at 20
        watch(m.map, at, 14, 11, log); // covered by that one too: no third
        at(50, () => {
          times = [...m.callTimes];
          m.map.close();
        });
      });
      expect(log).toEqual(['8: loaded at 15', '8: done at 15', '12: loaded at 20', '12: done at 20', '11: loaded at 20', '11: done at 20']);
      expect(times).toEqual([0, 10, 15]);
    });

    it('completes without a value when the map closes first, or already failed for good', () => {
      const log: string[] = [];
      run(({ cold, at }) => {
        const m = loaded(cold);
        void m.map.start();
        watch(m.map, at, 10, 10, log);
        at(12, () => m.map.close());
        const gone = makeMap(() => throwError(() => awsError('ResourceNotFoundException')));
        void gone.map.start();
        watch(gone.map, at, 20, 20, log);
      });
      expect(log).toEqual(['10: done at 12', '20: done at 20']);
    });
  });
});
