/* The public surface of rxkpl: every name exported here is documented and pinned by spec/index.spec.ts. */

/* Producer */
export { kinesisProducer, BACKPRESSURE } from './producer/kinesis-producer';
export type { KinesisProducerOptions, KinesisProducerOperator, OutstandingCount, OverflowPolicy } from './producer/kinesis-producer';
export { KinesisProducer, ProducerClosedError } from './producer/kinesis-producer-class';
export type { KinesisProducerClassOptions } from './producer/kinesis-producer-class';
export { createKinesisWriteStream } from './producer/kinesis-write-stream';
export type { KinesisWriteStreamOptions } from './producer/kinesis-write-stream';
export { createKinesisClient } from './producer/create-kinesis-client';
export type { KinesisClientOptions } from './producer/create-kinesis-client';

/* Operators */
export { shardPredict } from './operators/shard-predict';
export type { ShardPredictOptions, ShardMapLike } from './operators/shard-predict';
export { aggregateByShard } from './operators/aggregate-by-shard';
export type { AggregateByShardOptions } from './operators/aggregate-by-shard';
export { rateLimitPerShard } from './operators/rate-limit-per-shard';
export type { RateLimitPerShardOptions, ThrottleSignal } from './operators/rate-limit-per-shard';
export { collectBatches } from './operators/collect-batches';
export type { CollectBatchesOptions } from './operators/collect-batches';
export { putRecords } from './operators/put-records';
export type { PutRecordsOptions } from './operators/put-records';
export { retryClassify } from './operators/retry-classify';
export type { RetryClassifyOptions, ShardMapForRetrier } from './operators/retry-classify';
export { NON_RETRYABLE_ERROR_CODES } from './operators/internal/retry-table';

/* Shards */
export { ShardMap } from './shards/shard-map';
export type { ShardMapOptions, ShardMapFailure } from './shards/shard-map';

/* Codec */
export { encodeAggregated, decodeAggregated, isAggregated, AggregationFormatError } from './codec/aggregation';
export type { AggregationInput, DecodedRecord } from './codec/aggregation';
export { partitionKeyToHashKey } from './codec/hash';

/* Consumer */
export { deaggregate } from './consumer/deaggregate';
export type { DeaggregatedRecord, DeaggregateOptions, DeaggregateOperator, DeaggregateDropCount } from './consumer/deaggregate';

/* Metrics */
export { createMetricsRecorder } from './metrics/metrics-recorder';
export type { MetricReading, MetricDelta, MetricSeries, MetricsRecorder, MetricsRecorderOptions } from './metrics/metrics-recorder';
export { METRICS, METRIC_NAMES } from './metrics/metric-names';
export type { MetricName, MetricUnit, MetricLevel, MetricDefinition, MetricDimensions } from './metrics/metric-names';
export type { MetricsSink, MetricExport } from './metrics/metrics-sink';
export { startMetricsUploader } from './metrics/metrics-uploader';
export type { MetricsUploader, MetricsUploaderOptions, MetricsUploaderStats } from './metrics/metrics-uploader';
export { cloudWatchSink } from './metrics/sinks/cloudwatch';
export type { CloudWatchSink, CloudWatchSinkOptions, NotInferred } from './metrics/sinks/cloudwatch';
export { openTelemetrySink } from './metrics/sinks/opentelemetry';
export type { OpenTelemetrySinkOptions } from './metrics/sinks/opentelemetry';
export { prometheusSink } from './metrics/sinks/prometheus';
export type { PrometheusSinkOptions, PromRegistryLike } from './metrics/sinks/prometheus';
export { statsDSink } from './metrics/sinks/statsd';
export type { StatsDSinkOptions } from './metrics/sinks/statsd';
export { fanOutSink } from './metrics/sinks/fan-out';
export { MissingPeerDependencyError } from './metrics/sinks/optional-peer';

/* Records */
export { isRecordResult, isSendOutcome } from './records';
export type {
  UserRecord,
  RecordResult,
  Attempt,
  BufferedRecord,
  KinesisRecord,
  PutRecordsBatch,
  SendOutcome,
  Classified,
  PutRecordsResponseEntry,
} from './records';

/* Configuration and errors */
export { ValidationError, DEFAULT_CONFIG } from './config';
export type { ProducerConfig, MetricsLevel, MetricsGranularity } from './config';
