/**
 * createKinesisWriteStream: a Node `Writable` (object mode) over a {@link KinesisProducer}, so
 * `pipeline(lines, toRecords, createKinesisWriteStream(options))` is bounded end to end: a write
 * calls back only once the producer has room, so Node's `highWaterMark` back-pressure reaches the
 * file being read.
 */
import { Writable } from 'node:stream';
import { asyncScheduler } from 'rxjs';
import { ValidationError } from '../config';
import { rejectedResult } from '../operators/internal/attempts';
import type { RecordResult, UserRecord } from '../records';
import { KinesisProducer, type KinesisProducerClassOptions } from './kinesis-producer-class';

/** Options of {@link createKinesisWriteStream}: the producer's, plus the Writable's `highWaterMark`. */
export type KinesisWriteStreamOptions = KinesisProducerClassOptions & {
  /** Records the Writable buffers before `write()` returns false. Default 16 (Node's object-mode default). */
  readonly highWaterMark?: number;
};

/**
 * Makes an object-mode Writable that puts each written {@link UserRecord} to Kinesis.
 *
 * - Emits `'result'` with each {@link RecordResult} (a bad record becomes a failed result with
 *   errorCode `ValidationError`; the stream goes on).
 * - Calls back a write only when the producer has room (back-pressure).
 * - Emits `'finish'` only after every written record is terminal; the producer is then closed.
 * - `destroy()` closes the producer (records in flight still get their results).
 *
 * @example await pipeline(Readable.from(records), createKinesisWriteStream({ client, streamName: 'events' }))
 */
export function createKinesisWriteStream(options: KinesisWriteStreamOptions): Writable {
  const { highWaterMark, ...producerOptions } = options;
  if (highWaterMark !== undefined && (!Number.isInteger(highWaterMark) || highWaterMark < 1)) {
    throw new ValidationError('highWaterMark', highWaterMark, 'an integer ≥ 1');
  }
  const producer = new KinesisProducer(producerOptions);
  const scheduler = producerOptions.scheduler ?? asyncScheduler;
  const now = (): number => scheduler.now();
  const stream: Writable = new Writable({
    objectMode: true,
    highWaterMark: highWaterMark ?? 16,
    write(record: UserRecord, _encoding, callback) {
      let called = false;
      const admitted = (): void => {
        if (!called) {
          called = true;
          callback();
        }
      };
      producer.submit(record, admitted).then(
        (result: RecordResult) => {
          stream.emit('result', result);
          admitted();
        },
        (err: unknown) => {
          if (err instanceof ValidationError) {
            const result = rejectedResult(record, 'ValidationError', err.message, now());
            stream.emit('result', result);
            admitted();
          } else if (!called) {
            called = true;
            callback(err instanceof Error ? err : new Error(String(err)));
          }
        },
      );
    },
    final(callback) {
      producer.close().then(
        () => callback(),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    },
    destroy(err, callback) {
      producer.close().then(
        () => callback(err),
        () => callback(err),
      );
    },
  });
  return stream;
}
