/**
 * lib/index.ts is the only public surface (STYLE.md §6): this pins its runtime names, so adding or
 * dropping one is a deliberate change, and pins a few types with @ts-expect-error.
 */
import * as api from '../lib';
import * as testing from '../lib/testing';
import { kinesisProducer, KinesisProducer, type UserRecord } from '../lib';

const DOCUMENTED_NAMES = [
  // normative (ARCHITECTURE.md "Public API")
  'kinesisProducer',
  'KinesisProducer',
  'createKinesisClient',
  'createKinesisWriteStream',
  'shardPredict',
  'aggregateByShard',
  'rateLimitPerShard',
  'collectBatches',
  'putRecords',
  'retryClassify',
  'ShardMap',
  'encodeAggregated',
  'decodeAggregated',
  'isAggregated',
  'partitionKeyToHashKey',
  'deaggregate',
  'ValidationError',
  // errors and constants
  'AggregationFormatError',
  'ProducerClosedError',
  'MissingPeerDependencyError',
  'BACKPRESSURE',
  'DEFAULT_CONFIG',
  'NON_RETRYABLE_ERROR_CODES',
  // splitting what the operators emit, when composing them by hand
  'isRecordResult',
  'isSendOutcome',
  // metrics
  'METRICS',
  'METRIC_NAMES',
  'createMetricsRecorder',
  'startMetricsUploader',
  'cloudWatchSink',
  'openTelemetrySink',
  'prometheusSink',
  'statsDSink',
  'fanOutSink',
];

describe('public surface', () => {
  it('exports exactly the documented names', () => {
    expect(Object.keys(api).sort()).toEqual([...DOCUMENTED_NAMES].sort());
  });

  it('exports the testing helpers from rxkpl/testing', () => {
    expect(Object.keys(testing).sort()).toEqual(
      [
        'evenShards',
        'localCredentials',
        'startEmbeddedKinesis',
        'startFaultyKinesis',
        'startFaultyKinesisProcess',
        'startKinesisLocal',
        'stubShardId',
      ].sort(),
    );
  });

  it('pins option and record types', () => {
    const client = { send: () => Promise.resolve({}) } as never;
    // @ts-expect-error the client is required
    expect(() => kinesisProducer({ streamName: 's' })).toThrow(api.ValidationError);
    // @ts-expect-error the scheduler belongs in the options, not as a second argument
    expect(() => kinesisProducer({ client }, undefined)).not.toThrow();
    // @ts-expect-error partitionKey is required on a UserRecord
    const bad: UserRecord = { data: 'x' };
    expect(bad).toBeDefined();
    // @ts-expect-error data is bytes or a string
    const bad2: UserRecord = { partitionKey: 'k', data: 42 };
    expect(bad2).toBeDefined();
    // @ts-expect-error overflow takes 'fail' or 'buffer'
    expect(() => kinesisProducer({ client, overflow: 'drop' })).toThrow(api.ValidationError);
    const producer = new KinesisProducer({ client, streamName: 's' });
    // @ts-expect-error put takes one record, not an array
    void producer.put([{ partitionKey: 'k', data: 'x' }]).catch(() => undefined);
    return producer.close();
  });
});
