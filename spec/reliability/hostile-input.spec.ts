/**
 * Issue 11.4: hostile input. Records with every kind of invalid field (non-object, null, missing or
 * over-long key, data of the wrong type or over `maxUserRecordSize`, explicit hash keys '-1', 2^128,
 * ' 1', '0x10', stream names '' and non-strings), interleaved with good ones: each bad one gets a
 * ValidationError naming its field — a failed result in operator form, a rejection in class form —
 * while the good ones all succeed, exactly as (and when) they would without the bad ones, and
 * nothing escapes as an exception.
 */
import { from, lastValueFrom, Observable, tap, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ValidationError } from '../../lib/config';
import { KinesisProducer } from '../../lib/producer/kinesis-producer-class';
import { kinesisProducer } from '../../lib/producer/kinesis-producer';
import type { RecordResult, UserRecord } from '../../lib/records';
import { startFaultyKinesis, type FaultyKinesis } from '../../lib/testing/faulty-kinesis';
import { fakeKinesisClient } from '../helpers/producer-fake-client';
import { goodRecords, HOSTILE_MAX_USER_RECORD_SIZE, hostileRecords, interleave, LONE_SURROGATE_KEYS } from '../helpers/reliability-hostile';
import { storedTexts } from '../helpers/reliability-stub';

const OPTIONS = { maxUserRecordSize: HOSTILE_MAX_USER_RECORD_SIZE };
const HOSTILE = hostileRecords();

/** Runs `input` (one value per 1 ms frame, bad ones in the frame of the good one before) on virtual time. */
function runVirtual(input: readonly unknown[], goods: ReadonlySet<unknown>, errors: unknown[] = []): Map<unknown, { at: number; result: RecordResult }> {
  const out = new Map<unknown, { at: number; result: RecordResult }>();
  const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
  scheduler.run(({ cold }) => {
    const { client } = fakeKinesisClient({ cold, now: () => scheduler.now(), shards: 4 });
    const source = new Observable<UserRecord>((subscriber) => {
      let frame = 0;
      for (const value of input) {
        if (goods.has(value)) frame++;
        const at = frame;
        scheduler.schedule(() => subscriber.next(value as UserRecord), at);
      }
      scheduler.schedule(() => subscriber.complete(), frame + 1);
    });
    source
      .pipe(
        kinesisProducer({ client, streamName: 's', scheduler, random: () => 0.5, ...OPTIONS }),
        tap((result) => out.set(result.record, { at: scheduler.now(), result })),
      )
      .subscribe({ error: (err: unknown) => errors.push(err) });
  });
  return out;
}

describe('hostile input', () => {
  describe('operator form (virtual time, fake client)', () => {
    const good = goodRecords(60);
    const goods = new Set<unknown>(good);
    const mixed = interleave(good, HOSTILE);

    it('fails each bad record at once with a ValidationError result naming its field', () => {
      const errors: unknown[] = [];
      const results = runVirtual(mixed, goods, errors);
      expect(errors).toEqual([]);
      expect(results.size).toBe(mixed.length);
      for (const h of HOSTILE) {
        const got = results.get(h.record);
        expect({ label: h.label, success: got?.result.success, errorCode: got?.result.errorCode, field: got?.result.errorMessage?.split(' ')[0] }).toEqual({
          label: h.label,
          success: false,
          errorCode: 'ValidationError',
          field: h.field,
        });
        expect(got?.result.attempts).toHaveLength(1);
        // at once: in the frame it arrived (the frame of the good record before it)
        const before = mixed[mixed.indexOf(h.record) - 1];
        expect(got?.at).toBe(good.indexOf(before as UserRecord) + 1);
      }
    });

    it('succeeds every good record at the same time and with the same attempts as without the bad ones', () => {
      const alone = runVirtual(good, goods);
      const withBad = runVirtual(mixed, goods);
      for (const record of good) {
        const a = alone.get(record);
        const b = withBad.get(record);
        expect(a?.result.success).toBe(true);
        expect(b).toEqual(a);
      }
    });
  });

  describe('on the stub (loopback)', () => {
    let stub: FaultyKinesis;
    beforeEach(async () => {
      stub = await startFaultyKinesis({ streams: { s: 4 } });
    });
    afterEach(async () => {
      await stub.close();
    });

    it('operator: completes normally, the good records stored intact and nothing of the bad ones', async () => {
      const good = goodRecords(200);
      const mixed = interleave(good, HOSTILE, 5) as UserRecord[];
      const results = await lastValueFrom(
        from(mixed).pipe(kinesisProducer({ client: stub.client, streamName: 's', overflow: 'buffer', recordMaxBufferedTimeMs: 20, ...OPTIONS }), toArray()),
      );
      expect(results).toHaveLength(mixed.length);
      const goods = new Set<unknown>(good);
      expect(results.filter((r) => goods.has(r.record)).every((r) => r.success)).toBe(true);
      expect(results.filter((r) => !goods.has(r.record)).every((r) => !r.success && r.errorCode === 'ValidationError')).toBe(true);
      const stored = storedTexts(stub);
      expect([...stored.keys()].sort()).toEqual(good.map((r) => r.data as string).sort());
      expect([...stored.values()].every((n) => n === 1)).toBe(true);
      console.log(`hostile operator: ${good.length} good stored intact, ${HOSTILE.length} bad refused with ValidationError`);
    });

    it('class: put() rejects each bad record with a ValidationError naming its field, the good ones succeed, close() resolves', async () => {
      const producer = new KinesisProducer({ client: stub.client, streamName: 's', recordMaxBufferedTimeMs: 20, ...OPTIONS });
      const good = goodRecords(200);
      const mixed = interleave(good, HOSTILE, 5);
      const settled = await Promise.allSettled(mixed.map((r) => producer.put(r as UserRecord)));
      await producer.close();
      const goods = new Set<unknown>(good);
      mixed.forEach((record, i) => {
        const s = settled[i];
        if (goods.has(record)) {
          expect(s.status === 'fulfilled' && s.value.success && s.value.record === record).toBe(true);
        } else {
          const h = HOSTILE.find((x) => x.record === record);
          expect(s.status).toBe('rejected');
          const reason = (s as PromiseRejectedResult).reason as unknown;
          expect(reason).toBeInstanceOf(ValidationError);
          expect({ label: h?.label, field: (reason as ValidationError).field }).toEqual({ label: h?.label, field: h?.field });
        }
      });
      const stored = storedTexts(stub);
      expect([...stored.keys()].sort()).toEqual(good.map((r) => r.data as string).sort());
      console.log(`hostile class: ${good.length} good stored intact, ${HOSTILE.length} bad rejected with ValidationError`);
    });
  });

  describe('gaps found by this suite, now fixed', () => {
    // lib/operators/internal/prepare-record.ts accepted a partition key that is not well-formed UTF-16:
    // UTF-8 encoding turns each lone surrogate into U+FFFD, so '\uD800' and '\uDBFF' became one key
    // and a KCL consumer read back a key that was never put.
    it('refuses a partition key with lone surrogates (operator)', () => {
      const records = LONE_SURROGATE_KEYS.map((partitionKey) => ({ partitionKey, data: 'x' }));
      const results = runVirtual(records, new Set(records));
      for (const r of records) expect(results.get(r)?.result.errorCode).toBe('ValidationError');
    });

    // A record whose getter throws: kinesisProducer read `data` before validating (recordBytes), and
    // shardPredict rethrew any non-ValidationError, so the whole operator errored and every other
    // record in flight got no result.
    it('fails only the record whose data getter throws, not the whole stream (operator)', () => {
      const bad = Object.defineProperty({ partitionKey: 'k' }, 'data', {
        enumerable: true,
        get: () => {
          throw new Error('hostile getter');
        },
      }) as UserRecord;
      const good = goodRecords(3);
      const errors: unknown[] = [];
      const results = runVirtual([good[0], bad, good[1], good[2]], new Set(good), errors);
      expect(errors).toEqual([]); // was [Error('hostile getter')], with no result for the good records
      expect(results.size).toBe(4);
      expect(good.map((r) => results.get(r)?.result.success)).toEqual([true, true, true]);
      expect(results.get(bad)?.result).toMatchObject({ success: false, errorCode: 'ValidationError' });
    });
  });
});
