import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { firstValueFrom, lastValueFrom, of, Subject, toArray } from 'rxjs';
import { ValidationError } from '../../lib/config';
import { putRecords } from '../../lib/operators/put-records';
import { batchOf, bufferedRecord, kinesisRecord } from '../helpers/retrier-builders';
import { fakeClient } from '../helpers/retrier-clients';

const entry = { ShardId: 'shardId-000000000000', SequenceNumber: '4950' };

function twoRecordBatch() {
  const single = kinesisRecord([bufferedRecord({ key: 7n, name: 'alpha' })]);
  const aggregated = { ...kinesisRecord([bufferedRecord({ key: 8n }), bufferedRecord({ key: 9n })]), explicitHashKey: '8' };
  return batchOf([single, aggregated], 'clicks');
}

describe('putRecords', () => {
  afterEach(() => jest.useRealTimers());

  it('sends one PutRecordsCommand per batch with StreamName, Data, PartitionKey and ExplicitHashKey', async () => {
    const batch = twoRecordBatch();
    const { client, calls } = fakeClient([Promise.resolve({ Records: [entry, entry] })]);

    const outcome = await firstValueFrom(of(batch).pipe(putRecords(client)));

    expect(calls[0].command).toBeInstanceOf(PutRecordsCommand);
    expect(calls[0].input).toEqual({
      StreamName: 'clicks',
      Records: [
        { Data: batch.records[0].data, PartitionKey: 'alpha', ExplicitHashKey: '1' },
        { Data: batch.records[1].data, PartitionKey: 'a', ExplicitHashKey: '8' },
      ],
    });
    expect(calls[0].input.Records?.[0].Data).toBe(batch.records[0].data); // the bytes are not copied
    expect(calls[0].signal).toBeInstanceOf(AbortSignal);
    expect(outcome).toMatchObject({ kind: 'answered', batch, records: [entry, entry] });
    expect(outcome.endedAt).toBeGreaterThanOrEqual(outcome.startedAt);
  });

  it('accepts a client whose send returns an Observable', async () => {
    const batch = twoRecordBatch();
    const { client } = fakeClient([of({ Records: [entry, entry] })]);
    const outcomes = await lastValueFrom(of(batch, batch).pipe(putRecords(client), toArray()));
    expect(outcomes.map((o) => o.kind)).toEqual(['answered', 'answered']);
  });

  it('turns a rejected promise into an unanswered outcome with the SDK error name', async () => {
    const denied = Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' });
    const { client } = fakeClient([Promise.reject(denied)]);
    const outcome = await firstValueFrom(of(twoRecordBatch()).pipe(putRecords(client)));
    expect(outcome).toMatchObject({ kind: 'unanswered', errorCode: 'AccessDeniedException', errorMessage: 'User is not authorized' });
  });

  it.each([
    [{ name: 'TimeoutError', code: 'ECONNRESET', message: 'socket hang up' }, 'ECONNRESET'], // the SDK's rename of a reset
    [{ name: 'TimeoutError', code: 'EPIPE', message: 'write EPIPE' }, 'EPIPE'],
    [{ name: 'Error', code: 'EAI_AGAIN', message: 'getaddrinfo EAI_AGAIN' }, 'EAI_AGAIN'],
    [{ name: 'TimeoutError', message: 'Connection timed out after 1000 ms' }, 'TimeoutError'], // no system code: the name
    [{ name: 'ProvisionedThroughputExceededException', code: 'Throttled', message: 'slow down' }, 'ProvisionedThroughputExceededException'],
    [{ name: 'Error', code: 'SomeCode', message: 'x' }, 'SomeCode'],
  ])('names a failed request by its Node system error code first, then its name, then its code: %j', async (fields, errorCode) => {
    const err = Object.assign(new Error(fields.message), fields);
    const { client } = fakeClient([Promise.reject(err)]);
    const outcome = await firstValueFrom(of(twoRecordBatch()).pipe(putRecords(client)));
    expect(outcome).toMatchObject({ kind: 'unanswered', errorCode, errorMessage: fields.message });
  });

  it('leaves no timer behind once the answer came', async () => {
    jest.useFakeTimers();
    const { client } = fakeClient([of({ Records: [entry, entry] })]);
    const seen: string[] = [];
    const subscription = of(twoRecordBatch()).pipe(putRecords(client)).subscribe((o) => seen.push(o.kind));
    expect(seen).toEqual(['answered']);
    expect(jest.getTimerCount()).toBe(0);
    subscription.unsubscribe();
  });

  it('leaves no timer behind and aborts the request when the result is unsubscribed', () => {
    jest.useFakeTimers(); // asyncScheduler runs on setInterval, which jest counts
    const { client, calls } = fakeClient([new Subject<never>()]);
    const subscription = of(twoRecordBatch()).pipe(putRecords(client, { requestTimeoutMs: 1000 })).subscribe();
    expect(jest.getTimerCount()).toBe(1);
    subscription.unsubscribe();
    expect(jest.getTimerCount()).toBe(0);
    expect(calls[0].signal?.aborted).toBe(true);
  });

  it('times out on the real clock too, aborting the request', () => {
    jest.useFakeTimers();
    const { client, calls } = fakeClient([new Promise<never>(() => undefined)]);
    const seen: unknown[] = [];
    of(twoRecordBatch()).pipe(putRecords(client, { requestTimeoutMs: 100 })).subscribe((o) => seen.push(o));
    jest.advanceTimersByTime(99);
    expect(seen).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(seen).toMatchObject([{ kind: 'unanswered', errorCode: 'RequestTimeout' }]);
    expect(calls[0].signal?.aborted).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });

  it.each([
    [{ maxInFlightRequests: 0 }, 'maxInFlightRequests'],
    [{ maxInFlightRequests: 1.5 }, 'maxInFlightRequests'],
    [{ requestTimeoutMs: 99 }, 'requestTimeoutMs'],
    [{ requestTimeoutMs: Number.NaN }, 'requestTimeoutMs'],
  ])('refuses %p with a ValidationError naming %s', (options, field) => {
    const { client } = fakeClient([of({})]);
    expect(() => putRecords(client, options)).toThrow(ValidationError);
    expect(() => putRecords(client, options)).toThrow(expect.objectContaining({ field }));
  });

  it('refuses a client without send', () => {
    expect(() => putRecords({} as never)).toThrow(expect.objectContaining({ field: 'client' }));
  });

  it('keeps the scheduler inside the options object', () => {
    const { client } = fakeClient([of({})]);
    // @ts-expect-error scheduler belongs in the options
    expect(() => putRecords(client, {}, undefined)).not.toThrow();
  });
});
