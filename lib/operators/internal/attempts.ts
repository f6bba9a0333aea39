/**
 * Building `Attempt`s and `RecordResult`s: the KPL's `UserRecord::add_attempt` and
 * `finish_user_record` (kpl.md §8, aiokpl.md §4.7 `_fail` / `_finish_success`) as pure functions.
 *
 * An attempt is appended, never mutated (STYLE.md §4): every helper returns a new carrier or result.
 * A failed result's `errorCode`/`errorMessage` repeat its final attempt's, so a failure always says
 * why (kpl.md §12 item 16). Used by `retryClassify`, and by any stage that ends a record itself
 * (the limiter's expiry path, the producer's validation and shutdown).
 */
import type { Attempt, BufferedRecord, RecordResult, UserRecord } from '../../records';

/** What a stage knows about one attempt; `delayMs` and `durationMs` are derived. */
export interface AttemptFields {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly success: boolean;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly shardId?: string;
  readonly sequenceNumber?: string;
}

/**
 * The attempt `record` makes next: `delayMs` = startedAt − (its last attempt's endedAt, or its
 * arrival), `durationMs` = endedAt − startedAt. Absent optional fields stay absent.
 *
 * @example makeAttempt(record, { startedAt: 120, endedAt: 150, success: false, errorCode: 'InternalFailure', errorMessage: '' })
 *
 * @param record - the record before this attempt (its `attempts` and `arrival` give the delay).
 * @param fields - the times and outcome of the attempt.
 * @returns a new `Attempt`; `record` is not changed.
 */
export function makeAttempt(record: Pick<BufferedRecord, 'arrival' | 'attempts'>, fields: AttemptFields): Attempt {
  const previous = record.attempts.length > 0 ? record.attempts[record.attempts.length - 1].endedAt : record.arrival;
  const attempt: { -readonly [K in keyof Attempt]: Attempt[K] } = {
    startedAt: fields.startedAt,
    endedAt: fields.endedAt,
    delayMs: fields.startedAt - previous,
    durationMs: fields.endedAt - fields.startedAt,
    success: fields.success,
  };
  if (fields.errorCode !== undefined) attempt.errorCode = fields.errorCode;
  if (fields.errorMessage !== undefined) attempt.errorMessage = fields.errorMessage;
  if (fields.shardId !== undefined) attempt.shardId = fields.shardId;
  if (fields.sequenceNumber !== undefined) attempt.sequenceNumber = fields.sequenceNumber;
  return attempt;
}

/**
 * A failed attempt of `record` with a code and a message (the common case of {@link makeAttempt}).
 *
 * @example failedAttempt(record, 120, 150, 'Expired', 'Record has reached expiration')
 */
export function failedAttempt(
  record: Pick<BufferedRecord, 'arrival' | 'attempts'>,
  startedAt: number,
  endedAt: number,
  errorCode: string,
  errorMessage: string,
): Attempt {
  return makeAttempt(record, { startedAt, endedAt, success: false, errorCode, errorMessage });
}

/**
 * The payload size of a carrier: its `dataBytes`, or `data.byteLength` for a carrier built without
 * it. Read at result time, when the carrier is warm and the user's bytes are not.
 */
export function dataBytesOf(record: BufferedRecord): number {
  return record.dataBytes ?? record.data.byteLength;
}

/**
 * `record` with `attempt` appended: a new carrier, `record` is not changed.
 *
 * @example withAttempt(record, failedAttempt(record, 120, 150, 'InternalFailure', ''))
 */
export function withAttempt(record: BufferedRecord, attempt: Attempt): BufferedRecord {
  return { ...record, attempts: [...record.attempts, attempt] };
}

/**
 * The successful result of `record`, ending with `attempt` (which carries the shard id and sequence
 * number; every user record of one aggregated record gets the same sequence number).
 *
 * @example successResult(record, makeAttempt(record, { startedAt: 120, endedAt: 150, success: true, shardId, sequenceNumber }))
 */
export function successResult(record: BufferedRecord, attempt: Attempt): RecordResult {
  const result: { -readonly [K in keyof RecordResult]: RecordResult[K] } = {
    record: record.record,
    success: true,
    attempts: [...record.attempts, attempt],
  };
  if (attempt.shardId !== undefined) result.shardId = attempt.shardId;
  if (attempt.sequenceNumber !== undefined) result.sequenceNumber = attempt.sequenceNumber;
  return result;
}

/**
 * The failed result of `record`, ending with `attempts` (oldest first; one, or more as when a
 * retry finds the record expired: the failed attempt, then the `Expired` one). `errorCode` and
 * `errorMessage` repeat the last attempt's, `'Unknown'` and `''` if it has none.
 *
 * @example failedResult(record, failedAttempt(record, 120, 150, 'ResourceNotFoundException', 'Stream x not found'))
 */
export function failedResult(record: BufferedRecord, attempts: Attempt | readonly Attempt[]): RecordResult {
  return failedResultOf(record.record, [...record.attempts, ...(Array.isArray(attempts) ? attempts : [attempts as Attempt])]);
}

/**
 * The failed result of a user record that never became a `BufferedRecord` (refused by validation,
 * or dropped at shutdown): one attempt at `now` with no duration and no delay.
 *
 * @example rejectedResult(record, 'ValidationError', 'partitionKey is ""; allowed: 1–256 characters', scheduler.now())
 */
export function rejectedResult(record: UserRecord, errorCode: string, errorMessage: string, now: number): RecordResult {
  return failedResultOf(record, [failedAttempt({ arrival: now, attempts: [] }, now, now, errorCode, errorMessage)]);
}

function failedResultOf(record: UserRecord, attempts: readonly Attempt[]): RecordResult {
  const last = attempts.length > 0 ? attempts[attempts.length - 1] : undefined;
  return {
    record,
    success: false,
    errorCode: last?.errorCode ?? 'Unknown',
    errorMessage: last?.errorMessage ?? '',
    attempts,
  };
}
