/**
 * Reused PutRecords bodies (lib/operators/internal/body-pool.ts, issue 8): the pool on its own, and
 * through `putRecords` on a real `KinesisClient` whose transport is in process. What must hold: a
 * body is lent again only after its request was answered — never after a failure, an abort or a
 * timeout, when the socket may still be writing it — and every body is still the exact request.
 */
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { Readable } from 'node:stream';
import { concatMap, delay, lastValueFrom, of, toArray } from 'rxjs';
import { BodyPool, MIN_POOLED } from '../../lib/operators/internal/body-pool';
import { putRecords } from '../../lib/operators/put-records';
import type { PutRecordsBatch } from '../../lib/records';
import { batchOf, bufferedRecord, kinesisRecord } from '../helpers/retrier-builders';

describe('BodyPool', () => {
  it('lends a body of exactly the size asked, and the same memory again once given back', () => {
    const pool = new BodyPool();
    const owner = {};
    const body = pool.lend(100_000, owner);
    expect(body.length).toBe(100_000);
    expect(pool.idleCount).toBe(0);
    pool.giveBack(owner);
    expect(pool.idleCount).toBe(1);
    const again = pool.lend(90_000, {});
    expect(again.length).toBe(90_000);
    expect(again.buffer === body.buffer).toBe(true);
    expect(pool.idleCount).toBe(0);
  });

  it('never lends a body twice at once', () => {
    const pool = new BodyPool();
    const a = pool.lend(200_000, {});
    const b = pool.lend(200_000, {});
    expect(b.buffer === a.buffer).toBe(false);
  });

  it('allocates anew when no idle body is large enough, and takes the smallest that fits', () => {
    const pool = new BodyPool();
    const small = {};
    const large = {};
    const s = pool.lend(70_000, small); // 128 KiB underneath
    const l = pool.lend(3_000_000, large); // 3 MiB underneath
    pool.giveBack(small);
    pool.giveBack(large);
    expect(pool.lend(100_000, {}).buffer === s.buffer).toBe(true);
    expect(pool.lend(100_000, {}).buffer === l.buffer).toBe(true);
    expect(pool.lend(5_000_000, {}).buffer === l.buffer).toBe(false);
  });

  it('keeps at most maxIdle idle bodies, the largest ones', () => {
    const pool = new BodyPool(2);
    const owners = [{}, {}, {}];
    const bodies = [pool.lend(2_000_000, owners[0]), pool.lend(100_000, owners[1]), pool.lend(4_000_000, owners[2])];
    for (const owner of owners) pool.giveBack(owner);
    expect(pool.idleCount).toBe(2);
    const lent = [pool.lend(70_000, {}), pool.lend(70_000, {}), pool.lend(70_000, {})];
    expect(lent[0].buffer === bodies[0].buffer).toBe(true);
    expect(lent[1].buffer === bodies[2].buffer).toBe(true);
    expect(lent[2].buffer === bodies[1].buffer).toBe(false); // the smallest was dropped
  });

  it(`does not pool bodies under ${MIN_POOLED} bytes`, () => {
    const pool = new BodyPool();
    const owner = {};
    const body = pool.lend(MIN_POOLED - 1, owner);
    expect(body.length).toBe(MIN_POOLED - 1);
    pool.giveBack(owner);
    expect(pool.idleCount).toBe(0);
  });

  it('ignores an owner it lent nothing to, and a second give-back', () => {
    const pool = new BodyPool();
    const owner = {};
    pool.giveBack(owner);
    pool.lend(100_000, owner);
    pool.giveBack(owner);
    pool.giveBack(owner);
    expect(pool.idleCount).toBe(1);
  });
});

type Reply = 'ok' | 'fail' | 'hang';

/** A real client whose transport answers each request as `replies` says (in order; 'ok' after the list). */
function scriptedClient(replies: Reply[]): { client: KinesisClient; bodies: Uint8Array[]; copies: Buffer[] } {
  const bodies: Uint8Array[] = [];
  const copies: Buffer[] = [];
  const requestHandler = {
    handle: async (request: { body: unknown }, options?: { abortSignal?: AbortSignal }) => {
      const body = request.body as Uint8Array;
      bodies.push(body);
      copies.push(Buffer.from(body));
      const reply = replies.shift() ?? 'ok';
      if (reply === 'fail') throw Object.assign(new Error('connection reset'), { name: 'ECONNRESET' });
      if (reply === 'hang') {
        return new Promise<never>((_, reject) => options?.abortSignal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))));
      }
      const n = (JSON.parse(Buffer.from(body).toString('utf8')) as { Records: unknown[] }).Records.length;
      const answer = { FailedRecordCount: 0, Records: Array.from({ length: n }, (_, i) => ({ ShardId: 'shardId-000000000000', SequenceNumber: String(i) })) };
      return {
        response: { statusCode: 200, reason: 'OK', headers: { 'content-type': 'application/x-amz-json-1.1' }, body: Readable.from([Buffer.from(JSON.stringify(answer))]) },
      };
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
  const client = new KinesisClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:4567',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    requestHandler: requestHandler as unknown as KinesisClient['config']['requestHandler'],
    maxAttempts: 1,
  });
  return { client, bodies, copies };
}

/** A batch of one Kinesis record of `bytes` bytes filled with `fill`: a pooled body (≥ 64 KiB) when large. */
function bigBatch(bytes: number, fill: number): PutRecordsBatch {
  return batchOf([kinesisRecord([bufferedRecord({ key: BigInt(fill), data: new Uint8Array(bytes).fill(fill) })])]);
}

/** The Data of each request, decoded from the copy taken when it was sent. */
function sentData(copies: readonly Buffer[]): Buffer[] {
  return copies.map((c) => Buffer.from((JSON.parse(c.toString('utf8')) as { Records: { Data: string }[] }).Records[0].Data, 'base64'));
}

describe('putRecords reuses request bodies', () => {
  it('reuses the body of an answered request for the next one, each body the exact request', async () => {
    const { client, bodies, copies } = scriptedClient([]);
    const batches = [bigBatch(120_000, 1), bigBatch(100_000, 2), bigBatch(110_000, 3)];
    // One operator (one pool), one batch at a time: each body is given back before the next is asked for.
    const operator = putRecords(client);
    const outcomes = await lastValueFrom(of(...batches).pipe(concatMap((b) => of(b).pipe(operator)), toArray()));
    client.destroy();
    expect(outcomes.map((o) => o.kind)).toEqual(['answered', 'answered', 'answered']);
    expect(bodies[1].buffer === bodies[0].buffer).toBe(true);
    expect(bodies[2].buffer === bodies[0].buffer).toBe(true);
    expect(sentData(copies)).toEqual(batches.map((b) => Buffer.from(b.records[0].data)));
  });

  it('never reuses the body of a request that failed', async () => {
    const { client, bodies } = scriptedClient(['fail', 'ok', 'ok']);
    const operator = putRecords(client);
    const outcomes = await lastValueFrom(of(bigBatch(100_000, 1), bigBatch(100_000, 2), bigBatch(100_000, 3)).pipe(concatMap((b) => of(b).pipe(operator)), toArray()));
    client.destroy();
    expect(outcomes.map((o) => o.kind)).toEqual(['unanswered', 'answered', 'answered']);
    expect(bodies[1].buffer === bodies[0].buffer).toBe(false); // the failed one's socket may still hold it
    expect(bodies[2].buffer === bodies[1].buffer).toBe(true);
  });

  it('never reuses the body of a request that timed out (aborted)', async () => {
    const { client, bodies, copies } = scriptedClient(['hang']);
    const operator = putRecords(client, { requestTimeoutMs: 100 });
    const outcomes = await lastValueFrom(of(bigBatch(100_000, 1), bigBatch(100_000, 2)).pipe(concatMap((b) => of(b).pipe(operator, delay(0))), toArray()));
    client.destroy();
    expect(outcomes.map((o) => (o.kind === 'unanswered' ? o.errorCode : o.kind))).toEqual(['RequestTimeout', 'answered']);
    expect(bodies[1].buffer === bodies[0].buffer).toBe(false);
    // The aborted request's body was not overwritten by the next request.
    expect(Buffer.from(bodies[0]).equals(copies[0])).toBe(true);
  });

  it('does not hand a body that is in flight to a concurrent request', async () => {
    const { client, bodies } = scriptedClient([]);
    const outcomes = await lastValueFrom(of(bigBatch(100_000, 1), bigBatch(100_000, 2), bigBatch(100_000, 3)).pipe(putRecords(client, { maxInFlightRequests: 3 }), toArray()));
    client.destroy();
    expect(outcomes).toHaveLength(3);
    expect(new Set(bodies.map((b) => b.buffer)).size).toBe(3);
  });
});
