import { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { putRecords } from '../../lib/operators/put-records';
import { sendBatches } from '../../lib/operators/internal/send-batches';
import type { PutRecordsBatch, SendOutcome } from '../../lib/records';
import { batchOfSingles } from '../../spec/helpers/retrier-builders';
import { fakeClient } from '../../spec/helpers/retrier-clients';

const a = batchOfSingles(1, 'a');
const b = batchOfSingles(2, 'b');
const c = batchOfSingles(1, 'c');
const d = batchOfSingles(3, 'd');
const BATCHES = { a, b, c, d };
const response = { Records: [{ ShardId: 'shardId-000000000000', SequenceNumber: '1' }] };

function answeredAt(batch: PutRecordsBatch, startedAt: number, endedAt: number, records = response.Records): SendOutcome {
  return { kind: 'answered', batch, startedAt, endedAt, records };
}

function unansweredAt(batch: PutRecordsBatch, startedAt: number, endedAt: number, errorCode: string, errorMessage: string): SendOutcome {
  return { kind: 'unanswered', batch, startedAt, endedAt, errorCode, errorMessage };
}

describe('putRecords', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  it('holds the 4th batch while 3 requests are in flight with maxInFlightRequests 3', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('(abcd|)', BATCHES);
      const answers = [cold('-----r|', { r: response }), cold('-----r|', { r: response }), cold('-----r|', { r: response }), cold('-----r|', { r: response })];
      const { client, calls } = fakeClient(answers, scheduler);
      const expected = '-----(xyz)(w|)';
      //                a, b, c answer at 0 + 5; d is sent at 5 when a slot frees and answers at 10

      const result = source.pipe(putRecords(client, { maxInFlightRequests: 3, scheduler }));

      expectObservable(result).toBe(expected, { x: answeredAt(a, 0, 5), y: answeredAt(b, 0, 5), z: answeredAt(c, 0, 5), w: answeredAt(d, 5, 10) });
      expectSubscriptions(answers[0].subscriptions).toBe('^----!');
      expectSubscriptions(answers[2].subscriptions).toBe('^----!');
      expectSubscriptions(answers[3].subscriptions).toBe('-----^----!');
      scheduler.flush();
      expect(calls.map((call) => call.input.StreamName)).toEqual(['orders', 'orders', 'orders', 'orders']);
      expect(calls.every((call) => call.signal !== undefined && !call.signal.aborted)).toBe(true);
    });
  });

  it('reports a request with no answer as RequestTimeout at exactly requestTimeoutMs and aborts it', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-|', BATCHES);
      const never = cold('-');
      const { client, calls } = fakeClient([never], scheduler);
      const expected = '- 100ms (x|)';
      //                sent at 1, timed out at 1 + 100 = 101

      const result = source.pipe(putRecords(client, { requestTimeoutMs: 100, scheduler }));

      expectObservable(result).toBe(expected, { x: unansweredAt(a, 1, 101, 'RequestTimeout', 'PutRecords got no answer within 100 ms') });
      expectSubscriptions(never.subscriptions).toBe('-^ 99ms !');
      scheduler.flush();
      expect(calls[0].signal?.aborted).toBe(true);
      expect(calls[0].abortedAt).toBe(101);
    });
  });

  it('takes an answer that comes one frame before the timeout', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const { client, calls } = fakeClient([cold('99ms r|', { r: response })], scheduler);
      const result = cold('a|', BATCHES).pipe(putRecords(client, { requestTimeoutMs: 100, scheduler }));
      expectObservable(result).toBe('99ms (x|)', { x: answeredAt(a, 0, 99) });
      scheduler.flush();
      expect(calls[0].signal?.aborted).toBe(false);
    });
  });

  it('turns an erroring request into an unanswered outcome named after the error', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const throttle = Object.assign(new Error('Rate exceeded for shard'), { name: 'ProvisionedThroughputExceededException' });
      const { client, calls } = fakeClient([cold('--#', undefined, throttle)], scheduler);
      const result = cold('-a|', BATCHES).pipe(putRecords(client, { scheduler }));
      expectObservable(result).toBe('---(x|)', {
        x: unansweredAt(a, 1, 3, 'ProvisionedThroughputExceededException', 'Rate exceeded for shard'),
      });
      scheduler.flush();
      expect(calls[0].signal?.aborted).toBe(false);
    });
  });

  it('waits for the requests in flight before it completes', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const { client } = fakeClient([cold('-----r|', { r: response })], scheduler);
      const result = cold('-a|', BATCHES).pipe(putRecords(client, { scheduler }));
      expectObservable(result).toBe('------(x|)', { x: answeredAt(a, 1, 6) });
      //                             sent at 1, answered at 1 + 5; the source completed at 2
    });
  });

  it('aborts every request in flight when the result is unsubscribed', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-ab---', BATCHES);
      const never = cold('-');
      const { client, calls } = fakeClient([never], scheduler);
      const result = source.pipe(putRecords(client, { scheduler }));
      expectObservable(result, '^---!').toBe('-');
      expectSubscriptions(source.subscriptions).toBe('^---!');
      expectSubscriptions(never.subscriptions).toBe(['-^--!', '--^-!']);
      scheduler.flush();
      expect(calls.map((call) => [call.signal?.aborted, call.abortedAt])).toEqual([
        [true, 4],
        [true, 4],
      ]);
    });
  });

  it('passes a source error through and aborts the requests in flight', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const { client, calls } = fakeClient([cold('-')], scheduler);
      const result = hot('-a-#', BATCHES).pipe(putRecords(client, { scheduler }));
      expectObservable(result).toBe('---#');
      scheduler.flush();
      expect(calls[0].abortedAt).toBe(3);
    });
  });

  it('completes at once on an empty source and never emits on a silent one', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const { client } = fakeClient([cold('r|', { r: response })], scheduler);
      expectObservable(cold<PutRecordsBatch>('|').pipe(putRecords(client, { scheduler }))).toBe('|');
      expectObservable(cold<PutRecordsBatch>('-').pipe(putRecords(client, { scheduler }))).toBe('-');
    });
  });
});

describe('sendBatches', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  it('reads an answer without Records as no entries', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const result = cold('a|', BATCHES).pipe(sendBatches(() => cold('--r|', { r: {} }), { maxInFlightRequests: 1, requestTimeoutMs: 10, scheduler }));
      expectObservable(result).toBe('--(x|)', { x: answeredAt(a, 0, 2, []) });
    });
  });

  it('names an error by its Node code when its name is the bare Error', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      const result = cold('a|', BATCHES).pipe(sendBatches(() => cold('-#', undefined, reset), { maxInFlightRequests: 1, requestTimeoutMs: 10, scheduler }));
      expectObservable(result).toBe('-(x|)', { x: unansweredAt(a, 0, 1, 'ECONNRESET', 'socket hang up') });
    });
  });

  it('names a non-Error throw Unknown and an answer-less completion Unknown', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const options = { maxInFlightRequests: 2, requestTimeoutMs: 10, scheduler };
      const thrown = cold('a|', BATCHES).pipe(sendBatches(() => cold('-#', undefined, 'just a string'), options));
      expectObservable(thrown).toBe('-(x|)', { x: unansweredAt(a, 0, 1, 'Unknown', 'just a string') });
      const empty = cold('a|', BATCHES).pipe(sendBatches(() => cold('--|'), options));
      expectObservable(empty).toBe('--(x|)', { x: unansweredAt(a, 0, 2, 'Unknown', 'PutRecords completed without an answer') });
    });
  });

  it('turns a send that throws synchronously into data', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const send = (): Observable<never> => {
        throw Object.assign(new Error('no credentials'), { name: 'CredentialsProviderError' });
      };
      const result = cold('a|', BATCHES).pipe(sendBatches(send, { maxInFlightRequests: 1, requestTimeoutMs: 10, scheduler }));
      expectObservable(result).toBe('x|', { x: unansweredAt(a, 0, 0, 'CredentialsProviderError', 'no credentials') });
    });
  });

  it('starts the timeout when the request is sent, not when the batch arrives', () => {
    scheduler.run(({ cold, expectObservable }) => {
      // maxInFlightRequests 1: b waits 5 frames for a's slot, then times out 10 after its own send.
      const answers = [cold('-----r|', { r: response }), cold<typeof response>('-')];
      let n = 0;
      const result = cold('(ab|)', BATCHES).pipe(sendBatches(() => answers[n++], { maxInFlightRequests: 1, requestTimeoutMs: 10, scheduler }));
      expectObservable(result).toBe('-----x 9ms (y|)', {
        x: answeredAt(a, 0, 5),
        y: unansweredAt(b, 5, 15, 'RequestTimeout', 'PutRecords got no answer within 10 ms'),
      });
    });
  });
});
