/* Errors */
export { ValidationError } from './config';
export type { ProducerConfig, MetricsLevel, MetricsGranularity } from './config';

/* Records */
export type { UserRecord, RecordResult, Attempt } from './records';

/* Codec */
export { partitionKeyToHashKey } from './codec/hash';
