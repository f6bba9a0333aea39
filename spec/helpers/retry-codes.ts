/**
 * The codes README "Results and errors" says fail a record at once (retrying cannot fix them),
 * written out here rather than read from the library's table, so a test of that table, or of
 * retryClassify, fails when the table drops or gains one.
 */
export const DOCUMENTED_NON_RETRYABLE_CODES: readonly string[] = [
  'ResourceNotFoundException',
  'AccessDeniedException',
  'ValidationException',
  'InvalidArgumentException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSNotFoundException',
  'KMSInvalidStateException',
  'KMSOptInRequired',
];
