/**
 * README "Options": every option is checked when the producer is created, and a bad one throws a
 * ValidationError naming the field the user wrote — for the KinesisProducer class and the Writable
 * as for kinesisProducer (spec/contract/option-validation.spec.ts).
 */
import { createKinesisWriteStream, KinesisProducer } from '../../lib';
import * as clientModule from '../../lib/producer/create-kinesis-client';
import { refusal } from '../helpers/refusal';

const client = { send: () => Promise.resolve({}) };
const sink = { export: () => undefined };


describe('KinesisProducer class options', () => {
  it('refuses client: null (it was taken as "left out": a client was made and never destroyed by close())', () => {
    expect(refusal(() => new KinesisProducer({ client: null as never, streamName: 's' })).field).toBe('client');
  });

  it('names metricsUploadDelayMs (the option the user wrote), not the uploader\'s uploadDelayMs', () => {
    expect(refusal(() => new KinesisProducer({ client, streamName: 's', metricsSink: sink, metricsUploadDelayMs: -1 })).field).toBe(
      'metricsUploadDelayMs',
    );
  });

  it('refuses an unknown option name, as kinesisProducer now does (a typo ran silently on the default)', () => {
    expect(refusal(() => new KinesisProducer({ client, streamName: 's', recordMaxBufferTimeMs: 5000 } as never)).field).toBe(
      'recordMaxBufferTimeMs',
    );
  });

  it.each([-1, Number.NaN, '60000'])('refuses metricsUploadDelayMs %p even without a metricsSink', (value) => {
    expect(refusal(() => new KinesisProducer({ client, streamName: 's', metricsUploadDelayMs: value as never })).field).toBe(
      'metricsUploadDelayMs',
    );
  });

  it.each(['overflow', 'flush$'])('refuses %s: the class decides both itself (put waits for room; flush())', (name) => {
    expect(refusal(() => new KinesisProducer({ client, streamName: 's', [name]: 'buffer' } as never)).field).toBe(name);
  });

  it('accepts every documented option', () => {
    const producer = new KinesisProducer({
      client,
      streamName: 's',
      scheduler: undefined,
      shardMap: { refreshIntervalMs: 1000 },
      random: () => 0.5,
      metricsSink: sink,
      metricsUploadDelayMs: 1000,
      metricsLevel: 'summary',
      recordMaxBufferedTimeMs: 50,
    });
    return producer.close();
  });

  it('makes no client when an option is refused (nothing is left to destroy)', () => {
    const made = jest.spyOn(clientModule, 'createKinesisClient');
    try {
      refusal(() => new KinesisProducer({ streamName: 's', maxOutstandingRecords: -1 }));
      refusal(() => new KinesisProducer({ streamName: 's', typo: 1 } as never));
      expect(made).not.toHaveBeenCalled();
    } finally {
      made.mockRestore();
    }
  });
});

describe('createKinesisWriteStream options', () => {
  it('refuses an unknown option name, and says it is one of createKinesisWriteStream', () => {
    const err = refusal(() => createKinesisWriteStream({ client, streamName: 's', highWaterMarks: 16 } as never));
    expect(err.field).toBe('highWaterMarks');
    expect(err.message).toContain('createKinesisWriteStream');
    expect(err.message).toContain('highWaterMark');
  });

  it('refuses a missing options object as a ValidationError, not a TypeError', () => {
    expect(refusal(() => createKinesisWriteStream(null as never)).field).toBe('options');
  });

  it('accepts highWaterMark and the class options', async () => {
    const stream = createKinesisWriteStream({ client, streamName: 's', highWaterMark: 8, metricsUploadDelayMs: 1000 });
    stream.end();
    await new Promise((resolve) => stream.on('finish', resolve));
  });
});
