/**
 * The sending half of the KPL's pipeline (`PutRecordsAsync` in `aws/kinesis/core/pipeline.h`,
 * aiokpl `sender.py`, aiokpl.md §4.6) as a transport-free operator: `send` is any function from a
 * batch to an `ObservableInput`, so marble tests drive it with `cold(...)` (STYLE.md §3, "A Promise").
 *
 * Departures from the KPL and aiokpl (aiokpl.md §9 "Missing features"): a cap on requests in flight,
 * a request timeout that aborts the request, and abort on unsubscribe. Like both, every failure
 * becomes a `SendOutcome` value (STYLE.md §4); nothing is thrown.
 */
import {
  catchError,
  defer,
  EmptyError,
  first,
  from,
  map,
  mergeMap,
  Observable,
  ObservableInput,
  of,
  OperatorFunction,
  SchedulerLike,
  timeout,
  TimeoutError,
} from 'rxjs';
import type { PutRecordsBatch, PutRecordsResponseEntry, SendOutcome } from '../../records';
import { RETRIER_ERROR_CODES } from './retry-table';

/** The part of a PutRecords answer that {@link sendBatches} reads. */
export interface PutRecordsOutputLike {
  readonly Records?: readonly PutRecordsResponseEntry[];
}

/** Sends one batch; aborting `signal` must cancel the request. */
export type SendBatch = (batch: PutRecordsBatch, signal: AbortSignal) => ObservableInput<PutRecordsOutputLike>;

/** Limits for {@link sendBatches}. */
export interface SendBatchesOptions {
  /** Requests in flight at once; the next batch waits for a slot. */
  readonly maxInFlightRequests: number;
  /** A request with no answer after this many ms is aborted and becomes `unanswered` with code `RequestTimeout`. */
  readonly requestTimeoutMs: number;
  /** Where time comes from (timeouts, `startedAt`, `endedAt`). */
  readonly scheduler: SchedulerLike;
}

/**
 * Sends each batch with `send`, at most `maxInFlightRequests` at a time, and emits one
 * `SendOutcome` per batch, in the order the answers come.
 *
 * ```text
 * source:   (abcd)|
 * send:     each answers after 4 ms: ----r|
 * result:   ----(xyz)---(w|)         maxInFlightRequests 3
 *                                    x, y, z = answered a, b, c (4 − 0)   w = answered d (sent at 4, answered at 8)
 * ```
 *
 * - An answer becomes `{ kind: 'answered', records: response.Records ?? [] }`.
 * - An error becomes `{ kind: 'unanswered', errorCode, errorMessage }`. The code is the error's
 *   `name` (SDK errors carry the Kinesis name, e.g. `ProvisionedThroughputExceededException`), or
 *   its Node `code` (`ECONNRESET`) when the name is the bare `Error`, else `'Unknown'`.
 * - No answer within `requestTimeoutMs`: the request's signal is aborted and the outcome is
 *   `unanswered` with code `'RequestTimeout'`, at exactly `startedAt + requestTimeoutMs`.
 * - An `ObservableInput` that completes without a value is `unanswered` with code `'Unknown'`.
 * - `startedAt` is when the request is sent (not when the batch arrived); `endedAt` when it settled.
 * - Completion: waits for every request in flight, then completes.
 * - Error: the source's error passes through at once; requests in flight are aborted.
 * - Unsubscribe: every request in flight is aborted (its signal fires); nothing is emitted for it.
 *
 * @example batches$.pipe(sendBatches((batch, signal) => from(post(batch, signal)), { maxInFlightRequests: 24, requestTimeoutMs: 6000, scheduler: asyncScheduler }))
 *
 * @param send - sends one batch; called once per batch, when a slot is free.
 * @param options - the concurrency cap, the request timeout and the scheduler.
 * @returns an operator that never errors on its own.
 */
export function sendBatches(send: SendBatch, options: SendBatchesOptions): OperatorFunction<PutRecordsBatch, SendOutcome> {
  const { maxInFlightRequests, requestTimeoutMs, scheduler } = options;
  return (source) => source.pipe(mergeMap((batch) => sendOne(batch, send, requestTimeoutMs, scheduler), maxInFlightRequests));
}

function sendOne(batch: PutRecordsBatch, send: SendBatch, requestTimeoutMs: number, scheduler: SchedulerLike): Observable<SendOutcome> {
  return defer(() => {
    const controller = new AbortController();
    const startedAt = scheduler.now();
    let settled = false;
    const request = new Observable<PutRecordsOutputLike>((subscriber) => {
      const subscription = from(send(batch, controller.signal)).subscribe(subscriber);
      return () => {
        subscription.unsubscribe();
        // Torn down before an answer or an error: a timeout, an unsubscribe or a source error.
        if (!settled) controller.abort();
      };
    });
    return request.pipe(
      first(),
      timeout({ first: requestTimeoutMs, scheduler }),
      map((response): SendOutcome => {
        settled = true;
        return { kind: 'answered', batch, startedAt, endedAt: scheduler.now(), records: response.Records ?? [] };
      }),
      catchError((err: unknown) => {
        // The request itself failed: nothing left to abort. (A timeout has aborted it already.)
        if (!(err instanceof TimeoutError)) settled = true;
        const [errorCode, errorMessage] =
          err instanceof TimeoutError
            ? [RETRIER_ERROR_CODES.requestTimeout, `PutRecords got no answer within ${requestTimeoutMs} ms`]
            : err instanceof EmptyError
              ? [RETRIER_ERROR_CODES.unknown, 'PutRecords completed without an answer']
              : [errorCodeOf(err), errorMessageOf(err)];
        return of<SendOutcome>({ kind: 'unanswered', batch, startedAt, endedAt: scheduler.now(), errorCode, errorMessage });
      }),
    );
  });
}

/** A Node system error code (`ECONNRESET`, `EPIPE`, `EAI_AGAIN`, …). */
const SYSTEM_ERROR_CODE = /^E[A-Z0-9_]+$/;

/**
 * The attempt's errorCode for a failed request: a Node system error code first — the SDK renames a
 * reset or a broken pipe `TimeoutError` but keeps `code: 'ECONNRESET'`, which says what happened —
 * then the error's name (the Kinesis exception), then any other code.
 */
function errorCodeOf(err: unknown): string {
  if (typeof err !== 'object' || err === null) return RETRIER_ERROR_CODES.unknown;
  const { name, code } = err as { name?: unknown; code?: unknown };
  if (typeof code === 'string' && SYSTEM_ERROR_CODE.test(code)) return code;
  if (typeof name === 'string' && name !== '' && name !== 'Error') return name;
  if (typeof code === 'string' && code !== '') return code;
  return RETRIER_ERROR_CODES.unknown;
}

function errorMessageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message;
  }
  return String(err);
}
