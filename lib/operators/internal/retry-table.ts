/**
 * The Retrier's error-code table: which failure codes are retried and which fail a record at once.
 *
 * Mirrors the KPL's Retrier (kpl.md §8), which has **no** such table: it retries every error until
 * `RecordTtl` runs out, even `ResourceNotFoundException` (aiokpl does the same, aiokpl.md §4.7).
 * rxkpl follows kpl.md §13 ("classify non-retryable errors … and fail fast"): the codes marked
 * `retryable: false` below can never succeed by waiting, so retrying them only burns the TTL and
 * the shard's budget. Everything else, including any code not listed, is retried as the KPL does.
 *
 * The table is kafkajs-style (`src/protocol/error.js`: one row per code with a `retriable` flag),
 * read by one function, {@link classifyErrorCode}, so it stays easy to diff against the KPL's.
 */

/** Codes rxkpl itself puts on attempts, spelled as the KPL spells them (kpl.md §8). */
export const RETRIER_ERROR_CODES = Object.freeze({
  /** The record expired: in the limiter, or when a retry found it past its expiration. */
  expired: 'Expired',
  /** The record was written to a shard other than the predicted one and is re-sent (a duplicate). */
  wrongShard: 'Wrong Shard',
  /** PutRecords answered a different number of entries than it was sent. */
  recordCountMismatch: 'Record Count Mismatch',
  /** A failed entry or error without a code (aiokpl's default, aiokpl.md §4.7). */
  unknown: 'Unknown',
  /** No answer within `requestTimeoutMs` (set by `putRecords`; the request was aborted). */
  requestTimeout: 'RequestTimeout',
} as const);

/** The Kinesis throttling code: a shard's per-second record or byte budget is spent. */
export const THROTTLED_ERROR_CODE = 'ProvisionedThroughputExceededException';

/** One row of {@link RETRY_TABLE}. */
export interface RetryRule {
  /** False: the record fails on this attempt. True: it is retried until it expires. */
  readonly retryable: boolean;
  /** A throttle: feeds `onThrottled` and obeys `failIfThrottled`. */
  readonly throttled: boolean;
}

const retry: RetryRule = Object.freeze({ retryable: true, throttled: false });
const fail: RetryRule = Object.freeze({ retryable: false, throttled: false });

/**
 * Every code rxkpl knows, with what it does. A code not listed is retried ({@link classifyErrorCode}).
 * The KPL column would read "retry" on every row (kpl.md §8).
 */
export const RETRY_TABLE: Readonly<Record<string, RetryRule>> = Object.freeze({
  // Never fixed by waiting: the caller's stream, permissions, request or key are wrong.
  ResourceNotFoundException: fail,
  AccessDeniedException: fail,
  ValidationException: fail,
  InvalidArgumentException: fail,
  UnrecognizedClientException: fail,
  InvalidSignatureException: fail,
  KMSAccessDeniedException: fail,
  KMSDisabledException: fail,
  KMSNotFoundException: fail,
  KMSInvalidStateException: fail,
  KMSOptInRequired: fail,
  // Also terminal when they come from rxkpl itself: the count mismatch (kpl.md §8) and expiry.
  'Record Count Mismatch': fail,
  Expired: fail,

  // Throttled: retried (or failed at once with failIfThrottled), and reported to onThrottled.
  ProvisionedThroughputExceededException: Object.freeze({ retryable: true, throttled: true }),

  // Transient: the service, the network or the credentials may recover.
  KMSThrottlingException: retry,
  LimitExceededException: retry,
  InternalFailure: retry,
  InternalFailureException: retry,
  ServiceUnavailable: retry,
  ServiceUnavailableException: retry,
  ExpiredTokenException: retry, // credential providers refresh (kpl.md §12 item 13)
  'Wrong Shard': retry,
  RequestTimeout: retry,
  TimeoutError: retry,
  AbortError: retry,
  ECONNRESET: retry,
  ECONNREFUSED: retry,
  EPIPE: retry,
  ETIMEDOUT: retry,
  EAI_AGAIN: retry,
  Unknown: retry,
});

/**
 * What to do with a record whose attempt failed with `errorCode`.
 *
 * | code | failIfThrottled false | failIfThrottled true |
 * |---|---|---|
 * | `retryable: false` in {@link RETRY_TABLE} | fail | fail |
 * | ProvisionedThroughputExceededException | retry | fail |
 * | anything else, listed or not (5xx, resets, unknown codes) | retry | retry |
 *
 * @example classifyErrorCode('ResourceNotFoundException', false) // { action: 'fail', throttled: false }
 *
 * @param errorCode - the Kinesis, SDK, Node or rxkpl code of the failed attempt.
 * @param failIfThrottled - the ProducerConfig field of that name.
 * @returns the action and whether the code is a throttle.
 */
export function classifyErrorCode(errorCode: string, failIfThrottled: boolean): { action: 'retry' | 'fail'; throttled: boolean } {
  const rule = Object.prototype.hasOwnProperty.call(RETRY_TABLE, errorCode) ? RETRY_TABLE[errorCode] : retry;
  const action = !rule.retryable || (rule.throttled && failIfThrottled) ? 'fail' : 'retry';
  return { action, throttled: rule.throttled };
}

/** The codes that fail a record at once (the `retryable: false` rows of {@link RETRY_TABLE}). */
export const NON_RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set(
  Object.keys(RETRY_TABLE).filter((code) => !RETRY_TABLE[code].retryable),
);
