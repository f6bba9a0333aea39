/**
 * Builders for ShardMap tests: ListShards shards with deterministic ranges, and fake clients whose
 * `send` answers from a handler (Observables inside `TestScheduler.run()`, Promises outside).
 */
import type { KinesisClient, ListShardsCommandInput, ListShardsCommandOutput, Shard } from '@aws-sdk/client-kinesis';
import { type ObservableInput, of } from 'rxjs';

/** `shardId-000000000012`, as Kinesis names shard 12. */
export function shardIdOf(n: number): string {
  return `shardId-${String(n).padStart(12, '0')}`;
}

/** One ListShards shard; `closed` adds an EndingSequenceNumber. */
export function shard(n: number, start: bigint, end: bigint, closed = false): Shard {
  return {
    ShardId: shardIdOf(n),
    HashKeyRange: { StartingHashKey: start.toString(), EndingHashKey: end.toString() },
    SequenceNumberRange: closed ? { StartingSequenceNumber: '1', EndingSequenceNumber: '2' } : { StartingSequenceNumber: '1' },
  };
}

/** n open shards splitting [0, 2^128−1] evenly (aiokpl.md §8.4): step 2^128/n, the last ends at 2^128−1. */
export function evenShards(n: number, firstId = 0): Shard[] {
  const step = (1n << 128n) / BigInt(n);
  return Array.from({ length: n }, (_, i) => {
    const start = step * BigInt(i);
    const end = i === n - 1 ? (1n << 128n) - 1n : step * BigInt(i + 1) - 1n;
    return shard(firstId + i, start, end);
  });
}

/** The ListShards answers for `shards` in pages of `pageSize`, linked by NextToken `page-<i>`. */
export function pages(shards: readonly Shard[], pageSize: number): ListShardsCommandOutput[] {
  const out: ListShardsCommandOutput[] = [];
  for (let i = 0; i * pageSize < shards.length || i === 0; i++) {
    const last = (i + 1) * pageSize >= shards.length;
    out.push({ Shards: shards.slice(i * pageSize, (i + 1) * pageSize), NextToken: last ? undefined : `page-${i + 1}`, $metadata: {} });
  }
  return out;
}

/** Serves `pages(shards, pageSize)`: page 1 for a StreamName request, page i for NextToken `page-<i>`. */
export function servePages(shards: readonly Shard[], pageSize = 1000): (input: ListShardsCommandInput) => ListShardsCommandOutput {
  const answers = pages(shards, pageSize);
  return (input) => answers[input.NextToken === undefined ? 0 : Number(input.NextToken.slice('page-'.length))];
}

/** An Error as the SDK throws it: `name` is the AWS code. */
export function awsError(code: string, message = code): Error {
  return Object.assign(new Error(message), { name: code });
}

/** A fake client recording each ListShards input; `answer` returns what `send` gives back. */
export interface FakeListShardsClient {
  readonly client: Pick<KinesisClient, 'send'>;
  readonly calls: ListShardsCommandInput[];
}

export function fakeClient(answer: (input: ListShardsCommandInput, call: number) => ObservableInput<ListShardsCommandOutput>): FakeListShardsClient {
  const calls: ListShardsCommandInput[] = [];
  const send = (command: { input: ListShardsCommandInput }): ObservableInput<ListShardsCommandOutput> => {
    calls.push(command.input);
    return answer(command.input, calls.length);
  };
  return { client: { send } as unknown as Pick<KinesisClient, 'send'>, calls };
}

/** A fake client answering every call at once (synchronously) from `serve`. */
export function syncClient(serve: (input: ListShardsCommandInput) => ListShardsCommandOutput): FakeListShardsClient {
  return fakeClient((input) => of(serve(input)));
}
