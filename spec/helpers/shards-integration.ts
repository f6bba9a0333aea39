/**
 * Integration plumbing for ShardMap against local servers: deterministic random keys, a PutRecords
 * run that compares each record's predicted shard with the ShardId Kinesis answers, and a poll for
 * a map refresh (real time: the server is real).
 */
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { bigIntToHashKey, hashKeyOfPartitionKey, type HashKey } from '../../lib/codec/hash';
import type { ShardMap } from '../../lib/shards/shard-map';
import { mulberry32 } from '../../lib/testing/mulberry32';


/** `count` distinct partition keys of 20 characters. */
export function randomPartitionKeys(count: number, random: () => number): string[] {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const keys = new Set<string>();
  while (keys.size < count) {
    let key = '';
    for (let i = 0; i < 20; i++) key += alphabet[Math.floor(random() * alphabet.length)];
    keys.add(key);
  }
  return [...keys];
}

/** `count` explicit hash keys spread over [0, 2^128−1], as canonical decimals. */
export function randomExplicitHashKeys(count: number, random: () => number): string[] {
  return Array.from({ length: count }, () => {
    let value = 0n;
    for (let i = 0; i < 4; i++) value = (value << 32n) | BigInt(Math.floor(random() * 4294967296));
    return value.toString();
  });
}

/** One record to put: its partition key, optional explicit hash key, and its hash key. */
export interface Probe {
  readonly partitionKey: string;
  readonly explicitHashKey?: string;
  readonly hashKey: HashKey;
}

export function probesOf(partitionKeys: readonly string[], explicitHashKeys: readonly string[] = []): Probe[] {
  return [
    ...partitionKeys.map((partitionKey) => ({ partitionKey, hashKey: hashKeyOfPartitionKey(partitionKey) })),
    ...explicitHashKeys.map((ehk, i) => ({ partitionKey: `ehk-${i}`, explicitHashKey: ehk, hashKey: bigIntToHashKey(BigInt(ehk)) })),
  ];
}

/** Puts every probe (PutRecords, 500 a call) and counts how many landed on the predicted shard. */
export async function putAndCompare(
  client: Pick<KinesisClient, 'send'>,
  streamName: string,
  map: ShardMap,
  probes: readonly Probe[],
): Promise<{ matched: number; total: number; mismatches: { probe: Probe; predicted: string | undefined; actual: string | undefined }[] }> {
  const mismatches: { probe: Probe; predicted: string | undefined; actual: string | undefined }[] = [];
  for (let i = 0; i < probes.length; i += 500) {
    const chunk = probes.slice(i, i + 500);
    const answer = await client.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: chunk.map((p) => ({ PartitionKey: p.partitionKey, ExplicitHashKey: p.explicitHashKey, Data: new Uint8Array([1]) })),
      }),
    );
    chunk.forEach((probe, j) => {
      const predicted = map.predictKey(probe.hashKey);
      const actual = answer.Records?.[j]?.ShardId;
      if (predicted !== actual) mismatches.push({ probe, predicted, actual });
    });
  }
  return { matched: probes.length - mismatches.length, total: probes.length, mismatches };
}

/** Resolves once `condition()` holds, polling every 5 ms; rejects after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
