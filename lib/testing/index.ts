/**
 * `rxkpl/testing`: what users' own tests need to exercise a producer without AWS.
 *
 * - {@link startEmbeddedKinesis}: kinesalite in-process (needs the `kinesalite` package).
 * - {@link startKinesisLocal}: kinesis-local as a child process, for UpdateShardCount and
 *   ChildShards (needs the `kinesis-local` package).
 * - {@link startFaultyKinesis}: a stub that throttles, fails, resets, hangs and mis-answers on
 *   command, and records what it accepted; {@link startFaultyKinesisProcess} runs it in a child
 *   process for benchmarks.
 */
export { startEmbeddedKinesis, localCredentials } from './embedded-kinesis';
export type { EmbeddedKinesis, EmbeddedKinesisOptions } from './embedded-kinesis';
export type { ShardRecords } from './stream-admin';
export type { KinesaliteFactory, KinesaliteOptions } from './kinesalite-types';
export { startKinesisLocal } from './kinesis-local';
export type { KinesisLocalOptions } from './kinesis-local';
export { startFaultyKinesis, evenShards, stubShardId } from './faulty-kinesis';
export type {
  AcceptedRecord,
  FaultBehaviour,
  FaultSelector,
  FaultyKinesis,
  FaultyKinesisOptions,
  FaultyKinesisStats,
  FaultyRecord,
  FaultyRequest,
  PutRecordsRequestLog,
  RecordFault,
  RequestFault,
  StubShard,
} from './faulty-kinesis';
export { startFaultyKinesisProcess } from './faulty-kinesis-process';
export type { FaultyKinesisProcess, FaultyKinesisProcessOptions } from './faulty-kinesis-process';
