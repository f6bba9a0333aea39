/**
 * The Promise class, for code that does not use RxJS: put() resolves with each record's result,
 * waiting for room when the producer is full (back-pressure); close() leaves nothing pending.
 * Run: npx ts-node --transpile-only examples/promise-class.ts
 */
import { KinesisProducer, ValidationError } from '../lib';
import { exampleTarget } from './local-kinesis';

async function main(): Promise<void> {
  const target = await exampleTarget();
  const producer = new KinesisProducer({ client: target.client, streamName: target.streamName, maxOutstandingRecords: 1000 });

  const pending = [];
  for (let i = 0; i < 5000; i++) {
    // put() waits while 1000 records are outstanding, so memory stays bounded.
    pending.push(producer.put({ partitionKey: `order-${i % 100}`, data: `order ${i}` }));
  }
  try {
    await producer.put({ partitionKey: '', data: 'no key' });
  } catch (err) {
    if (err instanceof ValidationError) console.log(`refused as expected: ${err.message}`);
  }
  const results = await Promise.all(pending);
  const result = results[0];
  console.log(`first record: shard ${result.shardId}, sequence ${result.sequenceNumber}, ${result.attempts.length} attempt(s)`);
  console.log(`promise-class: ${results.filter((r) => r.success).length} of ${results.length} succeeded`);
  await producer.close();
  await target.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
