/**
 * A Lambda handler: one producer per container (reused across invocations), flushed before the
 * handler returns so nothing is left buffered when Lambda freezes the container (kpl.md §12 item 9:
 * the KPL needed flushSync and a child process here). No child process, no /tmp binary.
 * Run locally: npx ts-node --transpile-only examples/lambda-handler.ts
 */
import { KinesisProducer } from '../lib';
import { exampleTarget, type ExampleTarget } from './local-kinesis';

interface ApiEvent {
  readonly body: string;
}

let producer: KinesisProducer | undefined;
let target: ExampleTarget | undefined;

async function getProducer(): Promise<KinesisProducer> {
  if (producer === undefined) {
    target = await exampleTarget('rxkpl-lambda', 1);
    producer = new KinesisProducer({ client: target.client, streamName: target.streamName, recordMaxBufferedTimeMs: 50 });
  }
  return producer;
}

export async function handler(event: ApiEvent): Promise<{ statusCode: number; body: string }> {
  const p = await getProducer();
  const lines = event.body.split('\n').filter((line) => line.length > 0);
  const results = lines.map((line, i) => p.put({ partitionKey: `line-${i}`, data: line }));
  await p.flush(); // resolves when every record above has its result: safe to return
  const settled = await Promise.all(results);
  const failed = settled.filter((r) => !r.success);
  return { statusCode: failed.length === 0 ? 200 : 502, body: JSON.stringify({ written: settled.length - failed.length, failed: failed.length }) };
}

if (require.main === module) {
  handler({ body: 'alpha\nbeta\ngamma' })
    .then(async (response) => {
      console.log('lambda-handler:', response);
      await producer?.close();
      await target?.close();
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
