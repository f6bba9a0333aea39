/**
 * Where the examples write: an embedded kinesalite (default, nothing to set up), or a real stream
 * when `KINESIS_STREAM` is set (the client then uses the default AWS credential chain and region,
 * and `KINESIS_ENDPOINT` if set).
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { createKinesisClient } from '../lib';
import { startEmbeddedKinesis } from '../lib/testing';

export interface ExampleTarget {
  readonly client: KinesisClient;
  readonly streamName: string;
  /** Reads every record back (embedded only; a real stream returns undefined). */
  readonly readBackCount: () => Promise<number | undefined>;
  readonly close: () => Promise<void>;
}

export async function exampleTarget(streamName = 'rxkpl-example', shards = 2): Promise<ExampleTarget> {
  if (process.env.KINESIS_STREAM) {
    const client = createKinesisClient({ endpoint: process.env.KINESIS_ENDPOINT });
    return { client, streamName: process.env.KINESIS_STREAM, readBackCount: async () => undefined, close: async () => client.destroy() };
  }
  const kinesis = await startEmbeddedKinesis();
  await kinesis.createStream(streamName, shards);
  return {
    client: kinesis.client,
    streamName,
    readBackCount: async () => (await kinesis.readAll(streamName)).reduce((n, shard) => n + shard.records.length, 0),
    close: () => kinesis.close(),
  };
}
