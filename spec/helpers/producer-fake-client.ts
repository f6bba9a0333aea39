/**
 * A fake Kinesis client for marble tests of the composed producer: `send` returns cold
 * Observables (a Promise would never settle inside TestScheduler.run(), STYLE.md §3), answering
 * ListShards with one or more even shards and PutRecords as `answer` says.
 */
import {
  ListShardsCommand,
  PutRecordsCommand,
  type KinesisClient,
  type PutRecordsCommandInput,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import type { Observable } from 'rxjs';
import { MAX_HASH_KEY } from '../../lib/codec/hash';

export interface FakeCall {
  readonly input: PutRecordsCommandInput;
  readonly at: number;
}

export interface FakeClientOptions {
  /** A cold observable factory from TestScheduler helpers. */
  readonly cold: <T>(marbles: string, values?: Record<string, T>) => Observable<T>;
  readonly now: () => number;
  readonly shards?: number;
  /** Marbles of the ListShards answer ('r' = the shard list). Default '-r|'. */
  readonly listShardsMarbles?: string;
  /** Marbles of a PutRecords answer ('r' = the response). Default '----r|'. */
  readonly putMarbles?: string;
  /** Per call (0-based) and entry index: an error code, or undefined for success. */
  readonly errorFor?: (call: number, entry: number) => string | undefined;
}

export function shardIdOf(i: number): string {
  return `shardId-${String(i).padStart(12, '0')}`;
}

export function evenShards(n: number): { ShardId: string; HashKeyRange: { StartingHashKey: string; EndingHashKey: string } }[] {
  const step = (MAX_HASH_KEY + 1n) / BigInt(n);
  return Array.from({ length: n }, (_, i) => ({
    ShardId: shardIdOf(i),
    HashKeyRange: {
      StartingHashKey: (step * BigInt(i)).toString(),
      EndingHashKey: (i === n - 1 ? MAX_HASH_KEY : step * BigInt(i + 1) - 1n).toString(),
    },
    SequenceNumberRange: { StartingSequenceNumber: '0' },
  }));
}

function shardFor(ehk: bigint, n: number): number {
  const step = (MAX_HASH_KEY + 1n) / BigInt(n);
  return Math.min(n - 1, Number(ehk / step));
}

export function fakeKinesisClient(options: FakeClientOptions): { client: Pick<KinesisClient, 'send'>; calls: FakeCall[] } {
  const calls: FakeCall[] = [];
  const n = options.shards ?? 1;
  let sequence = 0;
  const send = (command: unknown): Observable<unknown> => {
    if (command instanceof ListShardsCommand) {
      return options.cold(options.listShardsMarbles ?? '-r|', { r: { Shards: evenShards(n) } });
    }
    if (command instanceof PutRecordsCommand) {
      const call = calls.length;
      calls.push({ input: command.input, at: options.now() });
      const records: PutRecordsResultEntry[] = (command.input.Records ?? []).map((entry, i) => {
        const error = options.errorFor?.(call, i);
        if (error !== undefined) return { ErrorCode: error, ErrorMessage: `${error} (fake)` };
        const shard = shardFor(BigInt(entry.ExplicitHashKey ?? '0'), n);
        return { ShardId: shardIdOf(shard), SequenceNumber: String(++sequence) };
      });
      const failed = records.filter((r) => r.ErrorCode !== undefined).length;
      return options.cold(options.putMarbles ?? '----r|', { r: { FailedRecordCount: failed, Records: records } });
    }
    throw new Error(`fake client: unexpected command ${String((command as object)?.constructor?.name)}`);
  };
  return { client: { send: send as unknown as KinesisClient['send'] }, calls };
}
