import { ValidationError } from '../../lib';

/** The ValidationError `make` throws (fails the test when it throws nothing, or something else). */
export function refusal(make: () => unknown): ValidationError {
  let error: unknown;
  try {
    make();
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}
