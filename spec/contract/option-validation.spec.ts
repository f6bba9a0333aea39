/**
 * ARCHITECTURE.md "Configuration" and README "Options": every option is checked when the producer or
 * operator is created, and a bad one throws `ValidationError` naming the field, the value and what is
 * allowed. These cases are the ones a user meets with options built at run time (JavaScript, JSON,
 * environment): a scheduler or flush trigger of the wrong kind, or no options object at all. Before,
 * they were accepted and failed later (on the first record, as a TypeError, or not at all).
 */
import { asyncScheduler, of } from 'rxjs';
import {
  aggregateByShard,
  collectBatches,
  createKinesisWriteStream,
  DEFAULT_CONFIG,
  kinesisProducer,
  KinesisProducer,
  putRecords,
  rateLimitPerShard,
  retryClassify,
  shardPredict,
  ShardMap,
} from '../../lib';
import { refusal } from '../helpers/refusal';

const client = { send: () => Promise.resolve({}) };
const shardMap = { predictKey: () => undefined, failure: undefined };


describe('options checked at creation (ARCHITECTURE.md "Configuration")', () => {
  const producers: [string, (options: object) => unknown][] = [
    ['kinesisProducer', (o) => kinesisProducer({ client, streamName: 's', ...o })],
    ['KinesisProducer', (o) => new KinesisProducer({ client, streamName: 's', ...o })],
    ['createKinesisWriteStream', (o) => createKinesisWriteStream({ client, streamName: 's', ...o })],
  ];

  describe.each(producers)('%s', (_name, make) => {
    it.each([5, 'async', {}, { now: () => 0 }, null])('refuses scheduler %p', (scheduler) => {
      const err = refusal(() => make({ scheduler }));
      expect(err.field).toBe('scheduler');
      expect(err.message).toContain('allowed');
    });

    it('accepts a real scheduler', () => {
      // The producer is lazy: nothing to close when no record was put.
      expect(() => make({ scheduler: { now: () => 0, schedule: () => ({ unsubscribe: () => undefined }) } })).not.toThrow();
    });
  });

  it.each([5, 'x', {}, null])('kinesisProducer refuses flush$ %p', (flush$) => {
    expect(refusal(() => kinesisProducer({ client, streamName: 's', flush$: flush$ as never })).field).toBe('flush$');
  });

  it.each([
    ['recordMaxBufferTimeMs', 5000],
    ['maxOutstandingRecord', 10],
    ['highWaterMark', 16],
  ])('kinesisProducer refuses an unknown option %s (a typo would silently run on the default)', (name, value) => {
    const err = refusal(() => kinesisProducer({ client, streamName: 's', [name]: value } as never));
    expect(err.field).toBe(name);
    expect(err.message).toContain('recordMaxBufferedTimeMs');
  });

  it('kinesisProducer accepts every documented option name', () => {
    const all = {
      client,
      streamName: 's',
      scheduler: asyncScheduler,
      flush$: of(1),
      overflow: 'buffer' as const,
      shardMap: { refreshIntervalMs: 1000 },
      random: () => 0.5,
      ...DEFAULT_CONFIG,
    };
    expect(() => kinesisProducer(all)).not.toThrow();
  });

  it('kinesisProducer accepts a flush$ Observable', () => {
    expect(() => kinesisProducer({ client, streamName: 's', flush$: of(1) })).not.toThrow();
  });
});

describe('each public operator checks its options object at creation', () => {
  const operators: [string, (options: unknown) => unknown][] = [
    ['shardPredict', (o) => shardPredict(o as never)],
    ['aggregateByShard', (o) => aggregateByShard(o as never)],
    ['rateLimitPerShard', (o) => rateLimitPerShard(o as never)],
    ['collectBatches', (o) => collectBatches(o as never)],
    ['putRecords', (o) => putRecords(client, o as never)],
    ['retryClassify', (o) => retryClassify(o as never)],
  ];

  it.each(operators)('%s(null) is a ValidationError naming options', (_name, make) => {
    expect(refusal(() => make(null)).field).toBe('options');
  });

  it.each(operators)('%s({ scheduler: 5 }) is a ValidationError naming scheduler', (_name, make) => {
    const options = _name === 'shardPredict' ? { shardMap, scheduler: 5 } : { scheduler: 5 };
    expect(refusal(() => make(options)).field).toBe('scheduler');
  });

  it.each([
    ['aggregateByShard', (o: unknown) => aggregateByShard(o as never)],
    ['collectBatches', (o: unknown) => collectBatches(o as never)],
  ])('%s refuses a flush$ that is not an Observable', (_name, make) => {
    expect(refusal(() => make({ flush$: 5 })).field).toBe('flush$');
  });

  it('rateLimitPerShard refuses a throttled$ that is not an Observable', () => {
    expect(refusal(() => rateLimitPerShard({ throttled$: {} as never })).field).toBe('throttled$');
  });

  it('ShardMap still names a bad scheduler', () => {
    expect(refusal(() => new ShardMap({ client, streamName: 's', scheduler: 5 as never })).field).toBe('scheduler');
  });
});
