import { TestScheduler } from 'rxjs/testing';
import { kinesisProducer } from '../../lib/producer/kinesis-producer';
import { fakeKinesisClient } from '../../spec/helpers/producer-fake-client';

describe('kinesisProducer metrics (kpl.md §9)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  function run(level: 'none' | 'summary' | 'detailed', errorFor?: (call: number) => string | undefined) {
    let producer!: ReturnType<typeof kinesisProducer>;
    scheduler.run(({ cold }) => {
      const { client } = fakeKinesisClient({ cold, now: () => scheduler.now(), shards: 2, errorFor });
      producer = kinesisProducer({ client, streamName: 's', scheduler, metricsLevel: level, random: () => 0 });
      const source = cold('--abc 500ms |', {
        a: { partitionKey: 'a', data: 'xx' },
        b: { partitionKey: 'b', data: 'yyy' },
        c: { partitionKey: 'c', data: 'z' },
      });
      source.pipe(producer).subscribe(); // run() flushes virtual time to the end; the metrics are read after
    });
    return producer;
  }

  it('records nothing at metricsLevel none', () => {
    const producer = run('none');
    expect(producer.getMetrics()).toEqual([]);
  });

  it('counts user records put, their bytes and their Kinesis records at detailed level, rolled up', () => {
    const producer = run('detailed');
    const put = producer.getMetrics('UserRecordsPut');
    const top = put.find((m) => Object.keys(m.dimensions).length === 0);
    expect(top).toMatchObject({ count: 3, sum: 3, min: 1, max: 1 });
    const stream = put.find((m) => m.dimensions.StreamName === 's' && m.dimensions.ShardId === undefined);
    expect(stream).toMatchObject({ count: 3, sum: 3 });
    const perShard = put.filter((m) => m.dimensions.ShardId !== undefined);
    expect(perShard.reduce((n, m) => n + m.count, 0)).toBe(3);
    const bytes = producer.getMetrics('UserRecordsDataPut').find((m) => Object.keys(m.dimensions).length === 0);
    expect(bytes).toMatchObject({ sum: 6 });
    expect(producer.getMetrics('UserRecordsReceived').find((m) => Object.keys(m.dimensions).length === 0)).toMatchObject({ count: 3 });
    expect(producer.getMetrics('RequestTime').length).toBeGreaterThan(0);
    expect(producer.getMetrics('UserRecordsPending').length).toBeGreaterThan(0);
  });

  it('keeps only summary metrics at summary level and counts errors by code', () => {
    const producer = run('summary', (call) => (call === 0 ? 'InternalFailure' : undefined));
    expect(producer.getMetrics('UserRecordsDataPut')).toEqual([]); // detailed
    expect(producer.getMetrics('RequestTime')).toEqual([]); // detailed
    const errors = producer.getMetrics('ErrorsByCode').find((m) => Object.keys(m.dimensions).length === 1);
    expect(errors?.dimensions).toEqual({ ErrorCode: 'InternalFailure' });
    // The first request held one Kinesis record per shard, both failed once, both succeeded on retry:
    // one error each, and AllErrors 1, 1, 0, 0 (kpl.md §8, per Kinesis record answered).
    expect(errors).toMatchObject({ count: 2, sum: 2 });
    expect(producer.getMetrics('AllErrors').find((m) => Object.keys(m.dimensions).length === 0)).toMatchObject({ count: 4, sum: 2 });
    const put = producer.getMetrics('UserRecordsPut').find((m) => Object.keys(m.dimensions).length === 0);
    expect(put).toMatchObject({ count: 3, sum: 3 });
  });
});
