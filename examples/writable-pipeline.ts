/**
 * A file to Kinesis with Node streams: pipeline(file lines → records → Kinesis Writable). The
 * Writable calls back only when the producer has room, so reading the file slows down to Kinesis's
 * pace and memory stays flat whatever the file's size.
 * Run: npx ts-node --transpile-only examples/writable-pipeline.ts [file]
 */
import { createReadStream, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createKinesisWriteStream, type RecordResult, type UserRecord } from '../lib';
import { exampleTarget } from './local-kinesis';

async function main(): Promise<void> {
  let file = process.argv[2];
  if (file === undefined) {
    file = join(tmpdir(), 'rxkpl-example-lines.txt');
    writeFileSync(file, Array.from({ length: 10_000 }, (_, i) => `line ${i}: ${'x'.repeat(80)}`).join('\n'));
  }
  const target = await exampleTarget();
  const lines = createInterface({ input: createReadStream(file) });
  async function* toRecords(): AsyncGenerator<UserRecord> {
    let n = 0;
    for await (const line of lines) yield { partitionKey: `line-${n++ % 64}`, data: line };
  }
  const sink = createKinesisWriteStream({ client: target.client, streamName: target.streamName, maxOutstandingRecords: 2000 });
  let ok = 0;
  let failed = 0;
  sink.on('result', (result: RecordResult) => (result.success ? ok++ : failed++));
  await pipeline(Readable.from(toRecords()), sink); // resolves after 'finish': every record is terminal
  console.log(`writable-pipeline: ${ok} lines written, ${failed} failed`);
  await target.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
