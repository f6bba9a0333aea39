/**
 * createKinesisWriteStream: a Node `Writable` (object mode) over a {@link KinesisProducer}, so
 * `pipeline(lines, toRecords, createKinesisWriteStream(options))` is bounded end to end: a write
 * calls back only once the producer has room, so Node's `highWaterMark` back-pressure reaches the
 * file being read.
 */
import { Writable } from 'node:stream';
import { asyncScheduler } from 'rxjs';
import { checkOptionsObject, ValidationError } from '../config';
import { rejectedResult } from '../operators/internal/attempts';
import type { RecordResult, UserRecord } from '../records';
import { checkOptionNames } from './kinesis-producer';
import { CLASS_OPTIONS, KinesisProducer, type KinesisProducerClassOptions, type SubmitHandler } from './kinesis-producer-class';

/** Options of {@link createKinesisWriteStream}: the producer's, plus the Writable's `highWaterMark`. */
export type KinesisWriteStreamOptions = KinesisProducerClassOptions & {
  /** Records the Writable buffers before `write()` returns false. Default 16 (Node's object-mode default). */
  readonly highWaterMark?: number;
};

/** The Writable's options besides the ProducerConfig fields: the class's, and `highWaterMark`. */
const WRITE_STREAM_OPTIONS: readonly string[] = [...CLASS_OPTIONS, 'highWaterMark'];

/**
 * Makes an object-mode Writable that puts each written {@link UserRecord} to Kinesis.
 *
 * - Emits `'result'` with each {@link RecordResult} (a bad record becomes a failed result with
 *   errorCode `ValidationError`; the stream goes on).
 * - Calls back a write only when the producer has room (back-pressure).
 * - Emits `'finish'` only after every written record is terminal; the producer is then closed.
 * - `destroy()` closes the producer (records in flight still get their results).
 * - A `'result'` listener that throws does not stop the producer or lose other results: its error
 *   is rethrown on the next tick, an uncaught exception as from any other event listener.
 * - An option name it does not know is refused (`ValidationError`), as by `KinesisProducer`.
 *
 * @example await pipeline(Readable.from(records), createKinesisWriteStream({ client, streamName: 'events' }))
 */
export function createKinesisWriteStream(options: KinesisWriteStreamOptions): Writable {
  checkOptionsObject(options);
  checkOptionNames(options, WRITE_STREAM_OPTIONS, 'createKinesisWriteStream');
  const { highWaterMark, ...producerOptions } = options;
  if (highWaterMark !== undefined && (!Number.isInteger(highWaterMark) || highWaterMark < 1)) {
    throw new ValidationError('highWaterMark', highWaterMark, 'an integer ≥ 1');
  }
  const producer = new KinesisProducer(producerOptions);
  const scheduler = producerOptions.scheduler ?? asyncScheduler;
  type WriteCallback = (error?: Error | null) => void;
  /** A 'result' listener that throws is the application's bug: it is rethrown outside the producer, which carries on. */
  const emitResult = (result: RecordResult): void => {
    try {
      stream.emit('result', result);
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  };
  // One handler for every write: each put's own state is its write callback, kept on the producer's
  // entry until the record is admitted (no closure, Promise or reaction per record).
  const handler: SubmitHandler = {
    onAdmitted: (entry) => {
      const callback = entry.context as WriteCallback;
      entry.context = undefined;
      callback();
    },
    settle: (result, entry) => {
      emitResult(result);
      // Never admitted: only when the producer failed it from inside (an internal error).
      const callback = entry.context as WriteCallback | undefined;
      entry.context = undefined;
      callback?.();
    },
  };
  const stream: Writable = new Writable({
    objectMode: true,
    highWaterMark: highWaterMark ?? 16,
    write(record: UserRecord, _encoding, callback) {
      try {
        producer.submit(record, handler, callback);
      } catch (err) {
        if (err instanceof ValidationError) {
          emitResult(rejectedResult(record, 'ValidationError', err.message, scheduler.now()));
          callback();
        } else callback(err instanceof Error ? err : new Error(String(err)));
      }
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
