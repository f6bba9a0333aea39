/**
 * PutRecords with bounded concurrency and a request timeout: the KPL's `PutRecordsAsync` call
 * (`aws/kinesis/core/pipeline.h`, kpl.md §6–§8) and aiokpl's `sender.py` (aiokpl.md §4.6).
 *
 * Departures: requests in flight are capped (`maxInFlightRequests`), a request with no answer
 * after `requestTimeoutMs` is aborted and reported (aiokpl has no timeout, aiokpl.md §9 B5), and
 * every entry carries `ExplicitHashKey`, as the KPL's do (aiokpl sends it only when there is one).
 */
import type { KinesisClient, PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { from, ObservableInput, OperatorFunction, SchedulerLike } from 'rxjs';
import { checkOptionsObject, resolveConfig, resolveScheduler, ValidationError } from '../config';
import type { PutRecordsBatch, SendOutcome } from '../records';
import { withNativeBase64Body } from './internal/put-records-body';
import { sendBatches } from './internal/send-batches';

/** Options of {@link putRecords}: two `ProducerConfig` fields and the scheduler. */
export interface PutRecordsOptions {
  /** PutRecords requests in flight at once. Default 24, integer 1 … 256. */
  maxInFlightRequests?: number;
  /** A request with no answer after this many ms is aborted. Default 6000, 100 … 600000. */
  requestTimeoutMs?: number;
  /** Where time comes from; tests pass their `TestScheduler`. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
}

/**
 * Sends each batch as one `PutRecordsCommand` through `client.send`, at most
 * `maxInFlightRequests` at a time, and emits one `SendOutcome` per batch as answers come.
 *
 * ```text
 * source:   (abcd)|
 * send:     each answers after 4 ms: ----r|
 * result:   ----(xyz)---(w|)         maxInFlightRequests 3
 *                                    x, y, z = answered a, b, c   w = answered d (sent at 4, when a slot frees)
 * ```
 *
 * Each request is `{ StreamName: batch.streamName, Records: [{ Data, PartitionKey, ExplicitHashKey }] }`,
 * sent with `{ abortSignal }`; on a real `KinesisClient` its JSON body is the SDK's, byte for byte,
 * but with each `Data` base64-encoded natively rather than in the SDK's JavaScript. Its answer is
 * read with `from(...)`, so a test client may return an Observable and run on virtual time. A
 * rejected request, an SDK error or a timeout becomes an `unanswered` outcome whose `errorCode` is
 * the Kinesis/SDK error name (`RequestTimeout` for the timeout); `retryClassify` decides what it means.
 *
 * - Completion: waits for every request in flight, then completes.
 * - Error: the source's error passes through at once; requests in flight are aborted.
 * - Unsubscribe: requests in flight are aborted through their `abortSignal`.
 *
 * @example batches$.pipe(putRecords(client, { maxInFlightRequests: 24, requestTimeoutMs: 6000 }), retryClassify({ shardMap }))
 *
 * @param client - a `KinesisClient`, or anything with its `send`.
 * @param options - the concurrency cap, the request timeout and the scheduler.
 * @returns an operator from batches to outcomes that never errors on its own.
 * @throws ValidationError when `client` has no `send` or an option is out of range.
 */
export function putRecords(client: Pick<KinesisClient, 'send'>, options: PutRecordsOptions = {}): OperatorFunction<PutRecordsBatch, SendOutcome> {
  if (typeof client !== 'object' || client === null || typeof client.send !== 'function') {
    throw new ValidationError('client', client, 'a KinesisClient (an object with a send method)');
  }
  checkOptionsObject(options);
  const { maxInFlightRequests, requestTimeoutMs } = resolveConfig({
    maxInFlightRequests: options.maxInFlightRequests,
    requestTimeoutMs: options.requestTimeoutMs,
  });
  const scheduler = resolveScheduler(options.scheduler);
  return sendBatches(
    (batch, abortSignal) =>
      from(client.send(toCommand(batch), { abortSignal }) as unknown as ObservableInput<PutRecordsCommandOutput>),
    { maxInFlightRequests, requestTimeoutMs, scheduler },
  );
}

/** The command for one batch; on a real client its body's base64 is written natively (see put-records-body.ts). */
function toCommand(batch: PutRecordsBatch): PutRecordsCommand {
  return withNativeBase64Body(
    new PutRecordsCommand({
      StreamName: batch.streamName,
      Records: batch.records.map((kr) => ({ Data: kr.data, PartitionKey: kr.partitionKey, ExplicitHashKey: kr.explicitHashKey })),
    }),
  );
}
