/**
 * Several streams from one producer: a record's own streamName wins over the producer's default.
 * Each stream has its own pipeline (shard map, limiter, batches); one stream's trouble — here a
 * stream that does not exist — fails its own records quickly and never blocks the others.
 * Run: npx ts-node --transpile-only examples/multi-stream.ts
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import { kinesisProducer, type UserRecord } from '../lib';
import { startEmbeddedKinesis } from '../lib/testing';

async function main(): Promise<void> {
  const kinesis = await startEmbeddedKinesis();
  await kinesis.createStream('clicks', 2);
  await kinesis.createStream('orders', 1);
  const records: UserRecord[] = [];
  for (let i = 0; i < 300; i++) {
    records.push({ partitionKey: `u${i}`, data: `click ${i}` }); // default stream: clicks
    records.push({ partitionKey: `o${i}`, data: `order ${i}`, streamName: 'orders' });
    if (i % 100 === 0) records.push({ partitionKey: `x${i}`, data: 'lost?', streamName: 'no-such-stream' });
  }
  const results = await lastValueFrom(
    from(records).pipe(kinesisProducer({ client: kinesis.client, streamName: 'clicks', overflow: 'buffer' }), toArray()),
  );
  const byStream = new Map<string, { ok: number; failed: Set<string> }>();
  for (const r of results) {
    const stream = r.record.streamName ?? 'clicks';
    const entry = byStream.get(stream) ?? { ok: 0, failed: new Set<string>() };
    if (r.success) entry.ok++;
    else entry.failed.add(r.errorCode ?? '?');
    byStream.set(stream, entry);
  }
  for (const [stream, { ok, failed }] of byStream) {
    console.log(`multi-stream: ${stream}: ${ok} ok${failed.size > 0 ? `, failed with ${[...failed].join(', ')}` : ''}`);
  }
  await kinesis.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
