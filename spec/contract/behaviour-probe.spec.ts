/**
 * A new user's probe of the normative behaviours (ARCHITECTURE.md "Public API", "Configuration",
 * "Record validation"; README "Using it") through the public surface only: `rxkpl` and
 * `rxkpl/testing`, against the fault-injecting stub on loopback.
 */
import { once } from 'node:events';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from, lastValueFrom, Subject, toArray, type Subscription } from 'rxjs';
import {
  createKinesisWriteStream,
  KinesisProducer,
  kinesisProducer,
  METRIC_NAMES,
  ProducerClosedError,
  ValidationError,
  type RecordResult,
  type UserRecord,
} from '../../lib';
import { startFaultyKinesis, type FaultBehaviour, type FaultyKinesis } from '../../lib/testing';
import { refusal } from '../helpers/refusal';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function records(n: number, prefix = 'r', keys = 50): UserRecord[] {
  return Array.from({ length: n }, (_, i) => ({ partitionKey: `pk-${i % keys}`, data: `${prefix}-${i}` }));
}

/** The rejection of `p` (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, got a resolution');
}

/** Every failed result says why: errorCode/errorMessage, the same as its final attempt's. */
function expectExplainedFailure(result: RecordResult, code: string): void {
  expect(result.success).toBe(false);
  expect(result.errorCode).toBe(code);
  expect(typeof result.errorMessage).toBe('string');
  expect((result.errorMessage ?? '').length).toBeGreaterThan(0);
  expect(result.attempts.length).toBeGreaterThan(0);
  const last = result.attempts[result.attempts.length - 1];
  expect(last.success).toBe(false);
  expect(last.errorCode).toBe(result.errorCode);
  expect(last.errorMessage).toBe(result.errorMessage);
}

function expectSuccess(result: RecordResult): void {
  expect(result.success).toBe(true);
  expect(result.errorCode).toBeUndefined();
  expect(result.shardId).toMatch(/^shardId-\d{12}$/);
  expect(typeof result.sequenceNumber).toBe('string');
  const last = result.attempts[result.attempts.length - 1];
  expect(last).toEqual(expect.objectContaining({ success: true, shardId: result.shardId, sequenceNumber: result.sequenceNumber }));
  for (const a of result.attempts) {
    expect(a.endedAt).toBeGreaterThanOrEqual(a.startedAt);
    expect(a.durationMs).toBe(a.endedAt - a.startedAt);
    expect(a.delayMs).toBeGreaterThanOrEqual(0);
  }
}

describe('behaviour probe (public API, against startFaultyKinesis)', () => {
  let stub: FaultyKinesis | undefined;
  const producers: KinesisProducer[] = [];
  const subscriptions: Subscription[] = [];

  async function startStub(streams: Record<string, number>, behaviour: FaultBehaviour = {}): Promise<FaultyKinesis> {
    stub = await startFaultyKinesis({ streams, behaviour });
    return stub;
  }

  function producer(options: Omit<ConstructorParameters<typeof KinesisProducer>[0], 'client'>): KinesisProducer {
    if (stub === undefined) throw new Error('start the stub first');
    const p = new KinesisProducer({ client: stub.client, ...options });
    producers.push(p);
    return p;
  }

  afterEach(async () => {
    for (const s of subscriptions.splice(0)) s.unsubscribe();
    await Promise.all(producers.splice(0).map((p) => p.close()));
    await stub?.close();
    stub = undefined;
  });

  describe('KinesisProducer: one result per record', () => {
    it('resolves every put with a success whose shardId/sequenceNumber are the last attempt\'s, and results$ sees each once', async () => {
      const s = await startStub({ s: 4 });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 10 });
      const seen: RecordResult[] = [];
      p.results$.subscribe((r) => seen.push(r));
      const input = records(200);
      const results = await Promise.all(input.map((r) => p.put(r)));
      expect(results).toHaveLength(200);
      results.forEach(expectSuccess);
      results.forEach((r, i) => expect(r.record).toBe(input[i]));
      expect(new Set(seen)).toEqual(new Set(results));
      expect(seen).toHaveLength(200);
      expect(p.outstandingRecords).toBe(0);
      expect(s.stats().userRecords).toBe(200);
      // sequenceNumber is shared by the user records of one aggregated record, and is the stored one.
      const storedSeq = new Map(s.accepted().map((a) => [`${a.partitionKey}/${Buffer.from(a.data).toString()}`, a.sequenceNumber]));
      for (const r of results) expect(r.sequenceNumber).toBe(storedSeq.get(`${r.record.partitionKey}/${String(r.record.data)}`));
    });

    it('retries per-record InternalFailure to success, with the failed attempt kept in attempts', async () => {
      await startStub({ s: 2 }, { internalFailureRecords: { first: 2 } });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 5, aggregationEnabled: false });
      const results = await Promise.all(records(20).map((r) => p.put(r)));
      results.forEach(expectSuccess);
      const retried = results.filter((r) => r.attempts.length > 1);
      expect(retried).toHaveLength(2);
      for (const r of retried) expect(r.attempts[0]).toEqual(expect.objectContaining({ success: false, errorCode: 'InternalFailure' }));
    });

    it('resolves (never rejects) a non-retryable request error as a failed result after one attempt', async () => {
      await startStub({ s: 2 }, { request: () => ({ kind: 'error', code: 'AccessDeniedException', message: 'no access for you' }) });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 5 });
      const results = await Promise.all(records(30).map((r) => p.put(r)));
      for (const r of results) {
        expectExplainedFailure(r, 'AccessDeniedException');
        expect(r.attempts).toHaveLength(1);
        expect(r.errorMessage).toContain('no access for you');
      }
      expect(p.outstandingRecords).toBe(0);
    });

    it('fails throttled records after their first attempt with failIfThrottled', async () => {
      await startStub({ s: 1 }, { throttleRecords: { every: 1 } });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 5, failIfThrottled: true });
      const results = await Promise.all(records(10).map((r) => p.put(r)));
      for (const r of results) {
        expectExplainedFailure(r, 'ProvisionedThroughputExceededException');
        expect(r.attempts).toHaveLength(1);
      }
    });

    it('fails always-throttled records as Expired once recordTtlMs runs out, every throttled attempt listed', async () => {
      await startStub({ s: 1 }, { throttleRecords: { every: 1 } });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 5, recordTtlMs: 300, metricsLevel: 'summary' });
      const started = Date.now();
      const results = await Promise.all(records(10).map((r) => p.put(r)));
      expect(Date.now() - started).toBeLessThan(3000);
      for (const r of results) {
        expectExplainedFailure(r, 'Expired');
        expect(r.attempts.some((a) => a.errorCode === 'ProvisionedThroughputExceededException')).toBe(true);
      }
      const expired = p.getMetrics('UserRecordExpired').filter((m) => Object.keys(m.dimensions).length === 0);
      expect(expired).toHaveLength(1);
      expect(expired[0].sum).toBe(10);
    });

    it('close() while every request hangs: resolves once requests time out and TTLs run out, nothing pending', async () => {
      await startStub({ s: 2 }, { hangRequests: { every: 1 } });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 5, requestTimeoutMs: 100, recordTtlMs: 400 });
      let settled = 0;
      const puts = records(40).map((r) => p.put(r).finally(() => settled++));
      await sleep(50);
      const started = Date.now();
      await p.close();
      expect(Date.now() - started).toBeLessThan(3000);
      expect(settled).toBe(40);
      const results = await Promise.all(puts);
      for (const r of results) {
        expect(r.success).toBe(false);
        expect(r.errorCode).toBeDefined();
        expect(r.attempts.length).toBeGreaterThan(0);
      }
      expect(p.outstandingRecords).toBe(0);
    });

    it('close() during slow in-flight requests: every put settles, and a later put rejects with ProducerClosedError', async () => {
      await startStub({ s: 2 }, { latencyMs: 200 });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 5 });
      const puts = records(100).map((r) => p.put(r));
      await sleep(60);
      await p.close();
      const results = await Promise.all(puts);
      results.forEach(expectSuccess);
      const err = await rejection(p.put({ partitionKey: 'late', data: 'x' }));
      expect(err).toBeInstanceOf(ProducerClosedError);
    });
    it.each<[string, boolean]>([
      ['ValidationException', false],
      ['UnrecognizedClientException', false],
      ['InvalidArgumentException', false],
      ['ResourceNotFoundException', false],
      ['ExpiredTokenException', true],
      ['KMSThrottlingException', true],
      ['InternalFailure', true],
      ['ProvisionedThroughputExceededException', true],
    ])('a request answered %s twice: retried (%p) as README "Results and errors" lists', async (code, retried) => {
      await startStub({ s: 1 }, { request: (req) => (req.index < 2 ? { kind: 'error', code, ...(code === 'InternalFailure' ? { status: 500 } : {}) } : undefined) });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 5, recordTtlMs: 5000 });
      const results = await Promise.all(records(3).map((r) => p.put(r)));
      for (const r of results) {
        if (retried) {
          expectSuccess(r);
          expect(r.attempts.map((a) => a.errorCode ?? 'ok')).toEqual([code, code, 'ok']);
        } else {
          expectExplainedFailure(r, code);
          expect(r.attempts).toHaveLength(1);
        }
      }
    });

    it.each([-1, 1])('an answer with %p entries too many/few: still exactly one result per record', async (delta) => {
      await startStub({ s: 1 }, { responseRecordCountDelta: delta });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 5, aggregationEnabled: false, recordTtlMs: 500 });
      let emitted = 0;
      p.results$.subscribe(() => emitted++);
      const results = await Promise.all(records(20).map((r) => p.put(r)));
      await p.close();
      expect(results).toHaveLength(20);
      expect(emitted).toBe(20);
      for (const r of results) expect(r.errorCode === undefined ? r.success : typeof r.errorMessage === 'string').toBe(true);
    });

    it('records that expire waiting in the rate limiter fail as Expired with an explained attempt', async () => {
      await startStub({ s: 1 });
      // rateLimit 1 %: 10 records/s after the 1000-record bucket; 1050 records, 200 ms TTL.
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 5, recordTtlMs: 200, rateLimit: 1, aggregationEnabled: false, metricsLevel: 'summary' });
      const results = await Promise.all(records(1050).map((r) => p.put(r)));
      const expired = results.filter((r) => !r.success);
      expect(expired.length).toBeGreaterThan(0);
      expect(expired.length).toBeLessThanOrEqual(50);
      for (const r of expired) expectExplainedFailure(r, 'Expired');
      results.filter((r) => r.success).forEach(expectSuccess);
      const metric = p.getMetrics('UserRecordExpired').find((m) => Object.keys(m.dimensions).length === 0);
      expect(metric?.sum).toBe(expired.length);
    });

    it('a retried record is not held for recordMaxBufferedTimeMs (60 s) once flush() was asked for', async () => {
      await startStub({ s: 1 }, { internalFailureRecords: { first: 1 } });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 60_000 });
      const puts = records(5).map((r) => p.put(r));
      const started = Date.now();
      await p.flush();
      expect(Date.now() - started).toBeLessThan(4000);
      for (const r of await Promise.all(puts)) {
        expectSuccess(r);
        expect(r.attempts.map((a) => a.errorCode ?? 'ok')).toEqual(['InternalFailure', 'ok']);
      }
    });
  });

  describe('time a record spends held for its stream\'s first shard-map load', () => {
    // README Options "recordTtlMs ... after this a record fails as `Expired`" and ARCHITECTURE.md Carrier types
    // "`delayMs` = time buffered before this attempt": a new stream's first records are held (up to 1 s) until
    // ListShards answers; until this probe their arrival was stamped on release, so such a record was sent
    // ~1 s after put() and succeeded with delayMs ≈ 5 ms.
    it('counts the first-load hold in delayMs and against recordTtlMs', async () => {
      await startStub({ s: 1 }, { operations: ['ListShards', 'DescribeStreamSummary'], hangRequests: { every: 1 } });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 5, recordTtlMs: 100 });
      const putAt = Date.now();
      const result = await p.put({ partitionKey: 'k', data: 'x' });
      const attempt = result.attempts[0];
      expect(attempt.startedAt - putAt).toBeGreaterThan(900); // held ~1 s: passes
      expect(attempt.delayMs).toBeGreaterThan(900); // fails: delayMs is ~5
      expect(result.errorCode).toBe('Expired'); // fails: success
    });
  });

  describe('streams', () => {
    it("a record's own streamName wins; a missing stream fails its records with ResourceNotFoundException while another succeeds", async () => {
      const s = await startStub({ a: 2, b: 1 });
      const p = producer({ streamName: 'a', recordMaxBufferedTimeMs: 5 });
      const input: UserRecord[] = [
        ...records(10, 'to-a'),
        ...records(10, 'to-b').map((r) => ({ ...r, streamName: 'b' })),
        ...records(10, 'to-missing').map((r) => ({ ...r, streamName: 'missing' })),
      ];
      const started = Date.now();
      const results = await Promise.all(input.map((r) => p.put(r)));
      expect(Date.now() - started).toBeLessThan(4000);
      results.slice(0, 20).forEach(expectSuccess);
      for (const r of results.slice(20)) expectExplainedFailure(r, 'ResourceNotFoundException');
      expect(s.accepted('a').map((a) => Buffer.from(a.data).toString()).sort()).toEqual(records(10, 'to-a').map((r) => String(r.data)).sort());
      expect(s.accepted('b')).toHaveLength(10);
    });

    it('a producer whose default stream is missing still delivers records naming an existing stream', async () => {
      const s = await startStub({ a: 1 });
      const p = producer({ streamName: 'nope', recordMaxBufferedTimeMs: 5 });
      const [good, bad] = await Promise.all([
        p.put({ partitionKey: 'k', data: 'x', streamName: 'a' }),
        p.put({ partitionKey: 'k', data: 'y' }),
      ]);
      expectSuccess(good);
      expectExplainedFailure(bad, 'ResourceNotFoundException');
      expect(s.accepted('a')).toHaveLength(1);
    });
  });

  describe('record validation (put rejects with a ValidationError naming field, value and allowed)', () => {
    const maxUserRecordSize = 64;
    const ok: [string, UserRecord][] = [
      ['a 256-character partition key', { partitionKey: 'k'.repeat(256), data: 'x' }],
      ['data of exactly maxUserRecordSize bytes', { partitionKey: 'k', data: new Uint8Array(64) }],
      ['a string of exactly maxUserRecordSize UTF-8 bytes', { partitionKey: 'k', data: 'é'.repeat(32) }],
      ['a long partition key not counted in the data size', { partitionKey: 'k'.repeat(200), data: 'd'.repeat(64) }],
      ['empty data', { partitionKey: 'k', data: '' }],
      ['explicitHashKey 0', { partitionKey: 'k', data: 'x', explicitHashKey: '0' }],
      ['explicitHashKey 2^128-1', { partitionKey: 'k', data: 'x', explicitHashKey: (2n ** 128n - 1n).toString() }],
    ];
    const bad: [string, UserRecord, string][] = [
      ['an empty partition key', { partitionKey: '', data: 'x' }, 'partitionKey'],
      ['a 257-character partition key', { partitionKey: 'k'.repeat(257), data: 'x' }, 'partitionKey'],
      ['data one byte over maxUserRecordSize', { partitionKey: 'k', data: new Uint8Array(65) }, 'data'],
      ['a string one UTF-8 char over maxUserRecordSize', { partitionKey: 'k', data: 'é'.repeat(33) }, 'data'],
      ['explicitHashKey 2^128', { partitionKey: 'k', data: 'x', explicitHashKey: (2n ** 128n).toString() }, 'explicitHashKey'],
      ['explicitHashKey -1', { partitionKey: 'k', data: 'x', explicitHashKey: '-1' }, 'explicitHashKey'],
      ['explicitHashKey in hex', { partitionKey: 'k', data: 'x', explicitHashKey: '0x10' }, 'explicitHashKey'],
      ['explicitHashKey empty', { partitionKey: 'k', data: 'x', explicitHashKey: '' }, 'explicitHashKey'],
      ['an empty streamName', { partitionKey: 'k', data: 'x', streamName: '' }, 'streamName'],
    ];

    it('accepts the boundary records and refuses the bad ones without stopping', async () => {
      await startStub({ s: 1 });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 5, maxUserRecordSize });
      for (const [what, record, field] of bad) {
        const err = await rejection(p.put(record));
        expect([what, err instanceof ValidationError]).toEqual([what, true]);
        const v = err as ValidationError;
        expect([what, v.field]).toEqual([what, field]);
        expect(v.value).toBe((record as unknown as Record<string, unknown>)[field]);
        expect(v.allowed.length).toBeGreaterThan(0);
        expect(v.message).toContain(field);
        expect(p.outstandingRecords).toBe(0);
      }
      const results = await Promise.all(ok.map(([, r]) => p.put(r)));
      results.forEach((r, i) => expect([ok[i][0], r.success]).toEqual([ok[i][0], true]));
    });

    // ARCHITECTURE.md "Record validation": a canonical decimal. ('01', '00', '0001' were accepted and sent normalised until this probe.)
    it('refuses a non-canonical explicitHashKey (leading zeros)', async () => {
      await startStub({ s: 1 });
      const p = producer({ streamName: 's' });
      for (const ehk of ['01', '00', '0001']) {
        expect(await rejection(p.put({ partitionKey: 'k', data: 'x', explicitHashKey: ehk }))).toBeInstanceOf(ValidationError);
      }
    });

    it('refuses a record with no stream at all (no default), naming streamName', async () => {
      await startStub({ s: 1 });
      const p = producer({ recordMaxBufferedTimeMs: 5 });
      const err = await rejection(p.put({ partitionKey: 'k', data: 'x' }));
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe('streamName');
    });

    it('refuses records that are not objects or whose data is of the wrong type', async () => {
      await startStub({ s: 1 });
      const p = producer({ streamName: 's' });
      for (const record of [null, 'text', 42, [], { partitionKey: 'k' }, { partitionKey: 'k', data: 5 }, { partitionKey: 'k', data: [1, 2] }]) {
        expect(await rejection(p.put(record as unknown as UserRecord))).toBeInstanceOf(ValidationError);
      }
    });
  });

  describe('back-pressure (put waits for room)', () => {
    it('never holds more than maxOutstandingRecords, and puts waiting for room are not counted', async () => {
      await startStub({ s: 2 }, { latencyMs: 30 });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 5, maxOutstandingRecords: 5 });
      let peak = 0;
      const sample = (): void => {
        peak = Math.max(peak, p.outstandingRecords);
      };
      const sampler = setInterval(sample, 1);
      p.results$.subscribe(sample);
      const puts = records(60).map((r) => p.put(r).then((res) => (sample(), res)));
      expect(p.outstandingRecords).toBe(5);
      const results = await Promise.all(puts);
      clearInterval(sampler);
      expect(peak).toBe(5);
      results.forEach(expectSuccess);
      expect(p.outstandingRecords).toBe(0);
    });

    it('never holds more than maxOutstandingBytes of data (300 kB records, 1 MiB bound: 3 at most)', async () => {
      const s = await startStub({ s: 1 }, { latencyMs: 20 });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 5, maxOutstandingBytes: 1_048_576 });
      let peak = 0;
      p.results$.subscribe(() => (peak = Math.max(peak, p.outstandingRecords)));
      const puts = Array.from({ length: 8 }, (_, i) => p.put({ partitionKey: `k${i}`, data: new Uint8Array(300_000) }));
      expect(p.outstandingRecords).toBe(3);
      const results = await Promise.all(puts);
      results.forEach(expectSuccess);
      expect(peak).toBeLessThanOrEqual(3);
      expect(s.stats().userRecords).toBe(8);
    });

    it.each(['close', 'flush'] as const)('%s() while puts wait for room (60 s deadlines): every put, waiting ones included, is terminal when it resolves', async (call) => {
      await startStub({ s: 2 });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 60_000, maxOutstandingRecords: 3 });
      let settled = 0;
      const puts = records(20).map((r) => p.put(r).finally(() => settled++));
      const started = Date.now();
      await p[call]();
      expect(Date.now() - started).toBeLessThan(4000);
      expect(settled).toBe(20);
      (await Promise.all(puts)).forEach(expectSuccess);
    });
  });

  describe('flush()', () => {
    it('sends buffered records at once (60 s deadlines) and resolves when they are terminal', async () => {
      await startStub({ s: 2 }, { latencyMs: 50 });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 60_000 });
      let settled = 0;
      const puts = records(30).map((r) => p.put(r).finally(() => settled++));
      const started = Date.now();
      await p.flush();
      expect(Date.now() - started).toBeLessThan(3000);
      expect(settled).toBe(30);
      (await Promise.all(puts)).forEach(expectSuccess);
    });

    it('resolves at once with nothing pending, including right after a previous flush', async () => {
      await startStub({ s: 1 });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 60_000 });
      const started = Date.now();
      await p.flush();
      const put = p.put({ partitionKey: 'k', data: 'x' });
      // The put above waits for a 60 s deadline: flush() gets it out; then nothing is pending.
      await p.flush();
      expectSuccess(await put);
      await p.flush();
      await p.flush();
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('concurrent flushes all resolve, each after the records put before it', async () => {
      await startStub({ s: 2 }, { latencyMs: 40 });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 60_000 });
      const first = records(10, 'first').map((r) => p.put(r));
      const f1 = p.flush();
      const second = records(10, 'second').map((r) => p.put(r));
      const f2 = p.flush();
      const f3 = p.flush();
      let firstDone = 0;
      let secondDone = 0;
      for (const f of first) void f.then(() => firstDone++);
      for (const f of second) void f.then(() => secondDone++);
      // What each flush saw settled when it resolved: its own records, all of them.
      const seen = await Promise.all([f1.then(() => firstDone), f2.then(() => secondDone), f3.then(() => secondDone)]);
      expect(seen).toEqual([10, 10, 10]);
      (await Promise.all([...first, ...second])).forEach(expectSuccess);
    });

    it('does not wait for records put after the call (they keep their own 60 s deadline)', async () => {
      await startStub({ s: 1 });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 60_000 });
      // Warm up: the stream's map is loaded, so later records go straight to the aggregator.
      const warm = p.put({ partitionKey: 'warm', data: 'x' });
      await p.flush();
      await warm;
      const before = p.put({ partitionKey: 'k', data: 'before' });
      const flushed = p.flush();
      let afterSettled = false;
      const after = p.put({ partitionKey: 'k', data: 'after' }).finally(() => (afterSettled = true));
      const started = Date.now();
      await flushed;
      expect(Date.now() - started).toBeLessThan(3000);
      expectSuccess(await before);
      expect(afterSettled).toBe(false);
      expect(p.outstandingRecords).toBe(1);
      await p.close();
      expectSuccess(await after);
    });
  });

  describe('close()', () => {
    it('is idempotent: two calls (together or later) resolve alike; put rejects with ProducerClosedError from the first call', async () => {
      await startStub({ s: 1 });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 60_000 });
      const put = p.put({ partitionKey: 'k', data: 'x' });
      const c1 = p.close();
      const c2 = p.close();
      // Intake stops at once, before close() resolves.
      expect(await rejection(p.put({ partitionKey: 'k', data: 'during' }))).toBeInstanceOf(ProducerClosedError);
      await expect(c1).resolves.toBeUndefined();
      await expect(c2).resolves.toBeUndefined();
      await expect(p.close()).resolves.toBeUndefined();
      expectSuccess(await put);
      expect(p.outstandingRecords).toBe(0);
      expect(await rejection(p.put({ partitionKey: 'k', data: 'after' }))).toBeInstanceOf(ProducerClosedError);
      // A bad record after close: closed wins or validation wins, but it is one of the two documented errors.
      const err = await rejection(p.put({ partitionKey: '', data: 'x' }));
      expect(err instanceof ProducerClosedError || err instanceof ValidationError).toBe(true);
    });

    it('completes results$ after the last result', async () => {
      await startStub({ s: 1 });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 60_000 });
      const seen: RecordResult[] = [];
      let completedAfter = -1;
      p.results$.subscribe({ next: (r) => seen.push(r), complete: () => (completedAfter = seen.length) });
      const puts = records(5).map((r) => p.put(r));
      await p.close();
      await Promise.all(puts);
      expect(completedAfter).toBe(5);
    });

    it('close() on a producer that was never used resolves', async () => {
      await startStub({ s: 1 });
      const p = producer({ streamName: 's' });
      await expect(p.close()).resolves.toBeUndefined();
    });
  });

  describe('getMetrics', () => {
    it("'detailed' keeps only KPL-named metrics with the documented reading shape and right totals", async () => {
      await startStub({ s: 2 }, { throttleRecords: { first: 1 } });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 5, metricsLevel: 'detailed', aggregationEnabled: false });
      const input = records(40);
      (await Promise.all(input.map((r) => p.put(r)))).forEach(expectSuccess);
      const all = p.getMetrics();
      const kplNames = [
        'UserRecordsReceived', 'UserRecordsPending', 'UserRecordsPut', 'UserRecordsDataPut', 'UserRecordExpired',
        'KinesisRecordsPut', 'KinesisRecordsDataPut', 'ErrorsByCode', 'AllErrors', 'RetriesPerRecord', 'BufferingTime',
        'RequestTime', 'UserRecordsPerKinesisRecord', 'KinesisRecordsPerPutRecordsRequest', 'UserRecordsPerPutRecordsRequest',
      ];
      expect([...METRIC_NAMES].sort()).toEqual([...kplNames].sort());
      for (const m of all) {
        expect(kplNames).toContain(m.name);
        expect(m).toEqual(expect.objectContaining({ count: expect.any(Number), sum: expect.any(Number), min: expect.any(Number), max: expect.any(Number), mean: expect.any(Number) }));
        expect(typeof m.dimensions).toBe('object');
      }
      const global = (name: string): { count: number; sum: number } | undefined =>
        all.find((m) => m.name === name && Object.keys(m.dimensions).length === 0);
      const dataBytes = input.reduce((n, r) => n + Buffer.byteLength(String(r.data)), 0);
      expect(global('UserRecordsReceived')).toEqual(expect.objectContaining({ count: 40, sum: 40 }));
      expect(global('UserRecordsPut')).toEqual(expect.objectContaining({ count: 40, sum: 40 }));
      expect(global('UserRecordsDataPut')).toEqual(expect.objectContaining({ count: 40, sum: dataBytes }));
      expect(global('RetriesPerRecord')).toEqual(expect.objectContaining({ count: 40, sum: 1 }));
      const byCode = all.filter((m) => m.name === 'ErrorsByCode' && m.dimensions['ErrorCode'] === 'ProvisionedThroughputExceededException');
      expect(byCode.length).toBeGreaterThan(0);
      expect(Math.max(...byCode.map((m) => m.sum))).toBe(1);
      // Stream and shard series roll up into the global one.
      const perShard = all.filter((m) => m.name === 'UserRecordsPut' && m.dimensions['ShardId'] !== undefined);
      expect(perShard.reduce((n, m) => n + m.count, 0)).toBe(40);
      expect(p.getMetrics('UserRecordsPut').every((m) => m.name === 'UserRecordsPut')).toBe(true);
      expect(p.getMetrics('UserRecordsPut', 60).find((m) => Object.keys(m.dimensions).length === 0)?.count).toBe(40);
    });

    it.each(['global', 'stream', 'shard'] as const)("'summary' at granularity %s keeps only the summary set, cut to its dimensions", async (granularity) => {
      await startStub({ s: 2 });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 5, metricsLevel: 'summary', metricsGranularity: granularity });
      await Promise.all(records(10).map((r) => p.put(r)));
      const summary = ['UserRecordsPut', 'KinesisRecordsPut', 'ErrorsByCode', 'AllErrors', 'BufferingTime', 'UserRecordExpired'];
      const readings = p.getMetrics();
      expect(readings.length).toBeGreaterThan(0);
      for (const m of readings) {
        expect(summary).toContain(m.name);
        if (granularity !== 'shard') expect(m.dimensions['ShardId']).toBeUndefined();
        if (granularity === 'global') expect(m.dimensions['StreamName']).toBeUndefined();
      }
      expect(readings.some((m) => m.dimensions['ShardId'] !== undefined)).toBe(granularity === 'shard');
    });

    it("'none' (the default) keeps nothing", async () => {
      await startStub({ s: 1 });
      const p = producer({ streamName: 's', recordMaxBufferedTimeMs: 5 });
      await p.put({ partitionKey: 'k', data: 'x' });
      expect(p.getMetrics()).toEqual([]);
    });

    it('refuses a window outside 1 … 60 s with a ValidationError', async () => {
      await startStub({ s: 1 });
      const p = producer({ streamName: 's', metricsLevel: 'summary' });
      for (const w of [0, 61, 1.5]) expect(() => p.getMetrics('UserRecordsPut', w)).toThrow(ValidationError);
    });
  });

  describe('kinesisProducer (operator)', () => {
    it('emits one result per record, bad records as ValidationError failures, and completes after the last', async () => {
      await startStub({ s: 2 });
      const input: UserRecord[] = [
        ...records(20),
        { partitionKey: 'k'.repeat(257), data: 'x' },
        { partitionKey: 'k', data: 'x', explicitHashKey: '1.5' },
        { partitionKey: 'k', data: new Uint8Array(65) },
        { partitionKey: 'k', data: 'x', streamName: '' },
        ...records(5, 'tail'),
      ];
      const op = kinesisProducer({ client: stub!.client, streamName: 's', recordMaxBufferedTimeMs: 5, maxUserRecordSize: 64 });
      const results = await lastValueFrom(from(input).pipe(op, toArray()));
      expect(results).toHaveLength(input.length);
      expect(new Set(results.map((r) => r.record))).toEqual(new Set(input));
      const failed = results.filter((r) => !r.success);
      expect(failed).toHaveLength(4);
      for (const r of failed) expectExplainedFailure(r, 'ValidationError');
      results.filter((r) => r.success).forEach(expectSuccess);
    });

    it("overflow 'fail' (default): records beyond maxOutstandingRecords fail at once with Backpressure; 'buffer' delivers all", async () => {
      await startStub({ s: 2 });
      const failOp = kinesisProducer({ client: stub!.client, streamName: 's', recordMaxBufferedTimeMs: 5, maxOutstandingRecords: 5 });
      const failResults = await lastValueFrom(from(records(30)).pipe(failOp, toArray()));
      expect(failResults).toHaveLength(30);
      const refused = failResults.filter((r) => r.errorCode === 'Backpressure');
      expect(refused).toHaveLength(25);
      for (const r of refused) expectExplainedFailure(r, 'Backpressure');
      expect(failResults.filter((r) => r.success)).toHaveLength(5);

      const bufferOp = kinesisProducer({ client: stub!.client, streamName: 's', recordMaxBufferedTimeMs: 5, maxOutstandingRecords: 5, overflow: 'buffer' });
      let peak = 0;
      const counter = bufferOp.outstanding$.subscribe(({ records: n }) => (peak = Math.max(peak, n)));
      subscriptions.push(counter);
      const bufferResults = await lastValueFrom(from(records(30)).pipe(bufferOp, toArray()));
      bufferResults.forEach(expectSuccess);
      expect(bufferResults).toHaveLength(30);
      expect(peak).toBe(5);
    });

    it('routes by the record\'s own streamName; a missing stream fails only its records', async () => {
      const s = await startStub({ a: 1 });
      const op = kinesisProducer({ client: s.client, streamName: 'missing', recordMaxBufferedTimeMs: 5 });
      const input: UserRecord[] = [...records(5, 'a').map((r) => ({ ...r, streamName: 'a' })), ...records(5, 'm')];
      const results = await lastValueFrom(from(input).pipe(op, toArray()));
      expect(results).toHaveLength(10);
      results.filter((r) => r.record.streamName === 'a').forEach(expectSuccess);
      for (const r of results.filter((x) => x.record.streamName === undefined)) expectExplainedFailure(r, 'ResourceNotFoundException');
      expect(s.accepted('a')).toHaveLength(5);
    });

    it('flush$ sends what is buffered without waiting for deadlines; outstanding$ returns to 0', async () => {
      await startStub({ s: 1 });
      const flush$ = new Subject<void>();
      const source = new Subject<UserRecord>();
      const op = kinesisProducer({ client: stub!.client, streamName: 's', recordMaxBufferedTimeMs: 60_000, flush$ });
      const results: RecordResult[] = [];
      let counts: number[] = [];
      subscriptions.push(op.outstanding$.subscribe(({ records: n }) => counts.push(n)));
      let completed = false;
      subscriptions.push(source.pipe(op).subscribe({ next: (r) => results.push(r), complete: () => (completed = true) }));
      for (const r of records(10)) source.next(r);
      await sleep(1200); // past the first shard-map load wait: the records sit with 60 s deadlines
      expect(results).toHaveLength(0);
      const started = Date.now();
      flush$.next();
      while (results.length < 10 && Date.now() - started < 3000) await sleep(10);
      expect(results).toHaveLength(10);
      results.forEach(expectSuccess);
      counts = counts.slice(-1);
      expect(counts).toEqual([0]);
      source.complete();
      await sleep(10);
      expect(completed).toBe(true);
    });

    it('one operator can be subscribed again after a completion (and an empty source completes at once)', async () => {
      await startStub({ s: 1 });
      const op = kinesisProducer({ client: stub!.client, streamName: 's', recordMaxBufferedTimeMs: 5 });
      const first = await lastValueFrom(from(records(3, 'one')).pipe(op, toArray()));
      const second = await lastValueFrom(from(records(3, 'two')).pipe(op, toArray()));
      const empty = await lastValueFrom(from([] as UserRecord[]).pipe(op, toArray()));
      [...first, ...second].forEach(expectSuccess);
      expect(empty).toEqual([]);
    });

    // README "Back-pressure in the operator form": the bound holds per subscription (each is a producer of its
    // own), and outstanding$ counts across all of them. (The probe first read the README as one shared bound.)
    it('bounds each subscription of one operator on its own; outstanding$ counts across them', async () => {
      await startStub({ s: 1 }, { latencyMs: 100 });
      const op = kinesisProducer({ client: stub!.client, streamName: 's', recordMaxBufferedTimeMs: 5, maxOutstandingRecords: 5 });
      let peak = 0;
      subscriptions.push(op.outstanding$.subscribe(({ records: n }) => (peak = Math.max(peak, n))));
      const [a, b] = await Promise.all([lastValueFrom(from(records(10, 'a')).pipe(op, toArray())), lastValueFrom(from(records(10, 'b')).pipe(op, toArray()))]);
      for (const results of [a, b]) {
        expect(results).toHaveLength(10);
        expect(results.filter((r) => r.success)).toHaveLength(5);
        expect(results.filter((r) => r.errorCode === 'Backpressure')).toHaveLength(5);
      }
      expect(peak).toBe(10);
    });

    it('passes a source error on at once', async () => {
      await startStub({ s: 1 }, { latencyMs: 200 });
      const source = new Subject<UserRecord>();
      const op = kinesisProducer({ client: stub!.client, streamName: 's', recordMaxBufferedTimeMs: 5 });
      const boom = new Error('boom');
      const errored = new Promise<unknown>((resolve) => subscriptions.push(source.pipe(op).subscribe({ error: resolve })));
      source.next({ partitionKey: 'k', data: 'x' });
      source.error(boom);
      expect(await errored).toBe(boom);
    });

    it('unsubscribing mid-flight releases the outstanding count and leaves no timer behind', async () => {
      await startStub({ s: 2 }, { latencyMs: 300 });
      const timeouts = (): number =>
        (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles().filter((h) => h.constructor.name === 'Timeout').length;
      const before = timeouts();
      const op = kinesisProducer({ client: stub!.client, streamName: 's', recordMaxBufferedTimeMs: 5, metricsLevel: 'detailed' });
      const source = new Subject<UserRecord>();
      const sub = source.pipe(op).subscribe();
      for (const r of records(50)) source.next(r);
      await sleep(100);
      let last = -1;
      const counter = op.outstanding$.subscribe(({ records: n }) => (last = n));
      expect(last).toBe(50);
      sub.unsubscribe();
      expect(last).toBe(0);
      counter.unsubscribe();
      await sleep(20);
      expect(timeouts()).toBeLessThanOrEqual(before);
    });
  });

  describe('createKinesisWriteStream', () => {
    function sinkFor(options: Omit<Parameters<typeof createKinesisWriteStream>[0], 'client'>): Writable {
      if (stub === undefined) throw new Error('start the stub first');
      return createKinesisWriteStream({ client: stub.client, ...options });
    }

    it('is an object-mode Writable that honours highWaterMark', async () => {
      await startStub({ s: 1 });
      const sink = sinkFor({ streamName: 's', highWaterMark: 7 });
      expect(sink.writableObjectMode).toBe(true);
      expect(sink.writableHighWaterMark).toBe(7);
      const dflt = sinkFor({ streamName: 's' });
      expect(dflt.writableHighWaterMark).toBe(16);
      sink.end();
      dflt.end();
      await Promise.all([once(sink, 'finish'), once(dflt, 'finish')]);
    });

    it("works with stream/promises pipeline: one 'result' per record (bad ones as ValidationError), all before 'finish'", async () => {
      const s = await startStub({ s: 2 }, { latencyMs: 20 });
      const sink = sinkFor({ streamName: 's', recordMaxBufferedTimeMs: 5, highWaterMark: 8 });
      const results: RecordResult[] = [];
      let atFinish = -1;
      sink.on('result', (r: RecordResult) => results.push(r));
      sink.on('finish', () => (atFinish = results.length));
      const input: unknown[] = [...records(100), { partitionKey: '', data: 'x' }, 'not a record', { partitionKey: 'k', data: 7 }, ...records(20, 'tail')];
      await pipeline(Readable.from(input), sink);
      expect(atFinish).toBe(123);
      expect(results).toHaveLength(123);
      const failed = results.filter((r) => !r.success);
      expect(failed).toHaveLength(3);
      for (const r of failed) expectExplainedFailure(r, 'ValidationError');
      expect(s.stats().userRecords).toBe(120);
    });

    it('calls a write back only when the producer has room', async () => {
      await startStub({ s: 1 }, { latencyMs: 40 });
      const sink = sinkFor({ streamName: 's', recordMaxBufferedTimeMs: 5, maxOutstandingRecords: 3, highWaterMark: 2 });
      let calledBack = 0;
      let resulted = 0;
      let worst = 0;
      sink.on('result', () => resulted++);
      const input = records(30);
      const writes = input.map(
        (r) =>
          new Promise<void>((resolve, reject) =>
            sink.write(r, (err) => {
              calledBack++;
              worst = Math.max(worst, calledBack - resulted);
              if (err) reject(err);
              else resolve();
            }),
          ),
      );
      await Promise.all(writes);
      sink.end();
      await once(sink, 'finish');
      expect(resulted).toBe(30);
      expect(worst).toBeLessThanOrEqual(3);
    });

    it('write() returns false once highWaterMark records are buffered', async () => {
      await startStub({ s: 1 }, { latencyMs: 40 });
      const sink = sinkFor({ streamName: 's', recordMaxBufferedTimeMs: 5, maxOutstandingRecords: 1, highWaterMark: 3 });
      let resulted = 0;
      sink.on('result', () => resulted++);
      const returns = records(6).map((r) => sink.write(r));
      expect(returns.indexOf(false)).toBeGreaterThanOrEqual(0);
      expect(returns.indexOf(false)).toBeLessThanOrEqual(3);
      sink.end();
      await once(sink, 'finish');
      expect(resulted).toBe(6);
    });

    it("destroy(): the producer is closed and admitted records still get their 'result' before 'close'", async () => {
      const s = await startStub({ s: 1 }, { latencyMs: 50 });
      const sink = sinkFor({ streamName: 's', recordMaxBufferedTimeMs: 60_000 });
      const results: RecordResult[] = [];
      sink.on('result', (r: RecordResult) => results.push(r));
      for (const r of records(10)) sink.write(r);
      await sleep(20);
      const closed = once(sink, 'close');
      sink.destroy();
      await closed;
      expect(results).toHaveLength(10);
      results.forEach(expectSuccess);
      expect(s.stats().userRecords).toBe(10);
    });

    it("a source that errors mid-pipeline: the pipeline rejects with it and every admitted record still gets its 'result'", async () => {
      const s = await startStub({ s: 1 }, { latencyMs: 30 });
      const sink = sinkFor({ streamName: 's', recordMaxBufferedTimeMs: 60_000 });
      const results: RecordResult[] = [];
      sink.on('result', (r: RecordResult) => results.push(r));
      const boom = new Error('source broke');
      const source = Readable.from(
        (async function* () {
          yield* records(5);
          await sleep(10);
          throw boom;
        })(),
      );
      const closed = new Promise<void>((resolve) => sink.on('close', () => resolve()));
      await expect(pipeline(source, sink)).rejects.toBe(boom);
      await closed;
      expect(results).toHaveLength(5);
      results.forEach(expectSuccess);
      expect(s.stats().userRecords).toBe(5);
    });

    it('destroy(err) surfaces err on the pipeline', async () => {
      await startStub({ s: 1 });
      const sink = sinkFor({ streamName: 's', recordMaxBufferedTimeMs: 5 });
      const boom = new Error('boom');
      const source = new Readable({ objectMode: true, read() {} });
      const done = pipeline(source, sink);
      source.push({ partitionKey: 'k', data: 'x' });
      await sleep(20);
      sink.destroy(boom);
      await expect(done).rejects.toBe(boom);
    });
  });

  describe('options (checked at creation)', () => {
    const client = { send: (): Promise<unknown> => Promise.resolve({}) };
    it.each<[string, Record<string, unknown>]>([
      ['maxOutstandingBytes', { maxOutstandingBytes: 1_048_575 }],
      ['maxOutstandingRecords', { maxOutstandingRecords: 0 }],
      ['maxOutstandingRecords', { maxOutstandingRecords: 1.5 }],
      ['recordMaxBufferedTimeMs', { recordMaxBufferedTimeMs: Number.NaN }],
      ['recordTtlMs', { recordTtlMs: 99 }],
      ['collectionMaxSize', { collectionMaxSize: 52_223 }],
      ['aggregationMaxSize', { aggregationMaxSize: 63 }],
      ['maxInFlightRequests', { maxInFlightRequests: 257 }],
      ['rateLimit', { rateLimit: 0 }],
      ['metricsLevel', { metricsLevel: 'verbose' }],
      ['recordMaxBufferTimeMs', { recordMaxBufferTimeMs: 5 }],
    ])('refuses a bad %s in all three forms, naming it', (field, bad) => {
      const forms: (() => unknown)[] = [
        () => kinesisProducer({ client, streamName: 's', ...bad } as never),
        () => new KinesisProducer({ client, streamName: 's', ...bad } as never),
        () => createKinesisWriteStream({ client, streamName: 's', ...bad } as never),
      ];
      for (const make of forms) expect(refusal(make).field).toBe(field);
    });

    it('accepts the documented minimums', async () => {
      const p = new KinesisProducer({ client, streamName: 's', maxOutstandingRecords: 1, maxOutstandingBytes: 1_048_576, recordMaxBufferedTimeMs: 0, recordTtlMs: 100 });
      await p.close();
    });
  });
});
