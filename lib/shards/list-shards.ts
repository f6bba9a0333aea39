/**
 * The ListShards side of {@link ShardMap}: the request of each page and the reading of its answer
 * (kpl.md §4, "ListShards request"; aiokpl.md §4.1).
 *
 * - Page 1 names the stream and asks for `ShardFilter: { Type: 'AT_LATEST' }` (open shards only);
 *   later pages send only `NextToken` and `MaxResults` (KPL 0.15.5, #482).
 * - Servers that ignore the filter (kinesalite 3.3.3 drops unknown fields and lists every shard)
 *   are handled by dropping closed shards here: a shard with an `EndingSequenceNumber` is closed.
 * - Servers that refuse it (a `ValidationException` / `InvalidArgumentException` naming the filter)
 *   are handled by {@link isShardFilterRejection}: the map then asks again without it.
 */
import type { ListShardsCommandInput, ListShardsCommandOutput } from '@aws-sdk/client-kinesis';
import { MAX_HASH_KEY } from '../codec/hash';
import type { ShardEntry } from './shard-table';

/** The KPL's page size (kpl.md §4). */
export const LIST_SHARDS_MAX_RESULTS = 1000;

/** The input of one ListShards page. */
export function listShardsInput(streamName: string, nextToken: string | undefined, useFilter: boolean): ListShardsCommandInput {
  if (nextToken !== undefined) return { NextToken: nextToken, MaxResults: LIST_SHARDS_MAX_RESULTS };
  return useFilter
    ? { StreamName: streamName, MaxResults: LIST_SHARDS_MAX_RESULTS, ShardFilter: { Type: 'AT_LATEST' } }
    : { StreamName: streamName, MaxResults: LIST_SHARDS_MAX_RESULTS };
}

/** One page read: its open shards and the token of the next page (absent or empty on the last). */
export interface ShardPage {
  readonly open: ShardEntry[];
  readonly nextToken: string | undefined;
}

const DECIMAL = /^[0-9]{1,39}$/;

function hashKey(text: unknown, shardId: string, field: string): bigint {
  if (typeof text !== 'string' || !DECIMAL.test(text)) throw malformed(`${shardId} has ${field} ${String(text)}`);
  const value = BigInt(text);
  if (value > MAX_HASH_KEY) throw malformed(`${shardId} has ${field} ${text} above 2^128-1`);
  return value;
}

function malformed(detail: string): Error {
  const error = new Error(`malformed ListShards answer: ${detail}`);
  error.name = 'InvalidListShardsResponse';
  return error;
}

/**
 * Reads one ListShards answer. Ranges are taken from the service, never computed
 * (kinesalite and kinesis-local split the same stream differently, node-testing.md §1).
 *
 * @throws Error named `InvalidListShardsResponse` for an answer it cannot read (the map treats it
 *   as a failed load and retries).
 */
export function readShardPage(output: ListShardsCommandOutput | undefined): ShardPage {
  if (typeof output !== 'object' || output === null) throw malformed('no answer');
  const shards = output.Shards ?? [];
  if (!Array.isArray(shards)) throw malformed('Shards is not a list');
  const open: ShardEntry[] = [];
  for (const shard of shards) {
    const shardId = shard?.ShardId;
    if (typeof shardId !== 'string' || shardId.length === 0) throw malformed('a shard without ShardId');
    if (shard.SequenceNumberRange?.EndingSequenceNumber !== undefined) continue; // closed
    const startingHashKey = hashKey(shard.HashKeyRange?.StartingHashKey, shardId, 'StartingHashKey');
    const endingHashKey = hashKey(shard.HashKeyRange?.EndingHashKey, shardId, 'EndingHashKey');
    if (startingHashKey > endingHashKey) throw malformed(`${shardId} has StartingHashKey > EndingHashKey`);
    open.push({ shardId, startingHashKey, endingHashKey });
  }
  const token = output.NextToken;
  return { open, nextToken: typeof token === 'string' && token.length > 0 ? token : undefined };
}

/** True when a first page failed because the server does not accept `ShardFilter`. */
export function isShardFilterRejection(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name !== 'ValidationException' && err.name !== 'InvalidArgumentException') return false;
  return /filter/i.test(err.message);
}

/** The AWS error code of a failure: SDK v3 errors carry it as `name`. */
export function errorCodeOf(err: unknown): string {
  return err instanceof Error && err.name.length > 0 ? err.name : 'UnknownError';
}

/** The message of a failure, whatever was thrown. */
export function errorMessageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
