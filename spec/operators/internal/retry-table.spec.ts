import { classifyErrorCode, NON_RETRYABLE_ERROR_CODES, RETRY_TABLE, THROTTLED_ERROR_CODE } from '../../../lib/operators/internal/retry-table';
import { DOCUMENTED_NON_RETRYABLE_CODES } from '../../helpers/retry-codes';

const RETRIED = [
  'InternalFailure',
  'ServiceUnavailable',
  'ExpiredTokenException',
  'KMSThrottlingException',
  'LimitExceededException',
  'RequestTimeout',
  'TimeoutError',
  'ECONNRESET',
  'Wrong Shard',
  'Unknown',
  'NotInTheTable',
];

describe('classifyErrorCode', () => {
  it.each(DOCUMENTED_NON_RETRYABLE_CODES)('fails %s at once, whatever failIfThrottled says', (code) => {
    expect(classifyErrorCode(code, false)).toEqual({ action: 'fail', throttled: false });
    expect(classifyErrorCode(code, true)).toEqual({ action: 'fail', throttled: false });
  });

  it.each(RETRIED)('retries %s, also with failIfThrottled', (code) => {
    expect(classifyErrorCode(code, false)).toEqual({ action: 'retry', throttled: false });
    expect(classifyErrorCode(code, true)).toEqual({ action: 'retry', throttled: false });
  });

  it('retries a throttle, or fails it with failIfThrottled', () => {
    expect(classifyErrorCode(THROTTLED_ERROR_CODE, false)).toEqual({ action: 'retry', throttled: true });
    expect(classifyErrorCode(THROTTLED_ERROR_CODE, true)).toEqual({ action: 'fail', throttled: true });
  });

  it('fails the terminal codes rxkpl itself uses', () => {
    expect(classifyErrorCode('Record Count Mismatch', false).action).toBe('fail');
    expect(classifyErrorCode('Expired', false).action).toBe('fail');
  });

  it('treats names inherited from Object.prototype as unknown codes', () => {
    expect(classifyErrorCode('toString', false)).toEqual({ action: 'retry', throttled: false });
    expect(classifyErrorCode('constructor', true)).toEqual({ action: 'retry', throttled: false });
  });
});

describe('NON_RETRYABLE_ERROR_CODES', () => {
  it('lists exactly the non-retryable rows of the table', () => {
    expect([...NON_RETRYABLE_ERROR_CODES].sort()).toEqual([...DOCUMENTED_NON_RETRYABLE_CODES, 'Record Count Mismatch', 'Expired'].sort());
  });

  it('is frozen with the table', () => {
    expect(Object.isFrozen(RETRY_TABLE)).toBe(true);
  });
});
