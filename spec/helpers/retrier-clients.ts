/**
 * Fake Kinesis clients for the sender's tests: `send` hands back the next prepared answer (a
 * Promise or an Observable) and records every command input and abort signal it was given.
 */
import type { KinesisClient, PutRecordsCommandInput } from '@aws-sdk/client-kinesis';
import type { ObservableInput, SchedulerLike } from 'rxjs';

export interface RecordedCall {
  /** The command object itself (a `PutRecordsCommand` when `putRecords` sent it). */
  readonly command: unknown;
  readonly input: PutRecordsCommandInput;
  readonly signal: AbortSignal | undefined;
  /** scheduler.now() when the signal fired, if it did. */
  abortedAt?: number;
}

/**
 * A client whose n-th `send` returns `answers[n]` (the last one again past the end), or what
 * `answers(input, n)` returns.
 */
export function fakeClient(
  answers: readonly ObservableInput<unknown>[] | ((input: PutRecordsCommandInput, n: number) => ObservableInput<unknown>),
  scheduler?: SchedulerLike,
): { client: Pick<KinesisClient, 'send'>; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const send = (command: { input: PutRecordsCommandInput }, options?: { abortSignal?: AbortSignal }) => {
    const call: RecordedCall = { command, input: command.input, signal: options?.abortSignal };
    call.signal?.addEventListener('abort', () => {
      call.abortedAt = scheduler?.now();
    });
    calls.push(call);
    const n = calls.length - 1;
    return typeof answers === 'function' ? answers(command.input, n) : answers[Math.min(n, answers.length - 1)];
  };
  return { client: { send } as unknown as Pick<KinesisClient, 'send'>, calls };
}
