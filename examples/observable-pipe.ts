/**
 * Piping an Observable: every user record in, one RecordResult out, completion when all are done.
 * Run: npx ts-node --transpile-only examples/observable-pipe.ts
 */
import { interval, map, take } from 'rxjs';
import { kinesisProducer } from '../lib';
import { exampleTarget } from './local-kinesis';

async function main(): Promise<void> {
  const target = await exampleTarget();
  const events$ = interval(1).pipe(
    take(2000),
    map((i) => ({ partitionKey: `device-${i % 50}`, data: JSON.stringify({ i, at: new Date().toISOString() }) })),
  );
  let ok = 0;
  let failed = 0;
  await new Promise<void>((resolve, reject) =>
    events$.pipe(kinesisProducer({ client: target.client, streamName: target.streamName })).subscribe({
      next: (result) => {
        if (result.success) ok++;
        else {
          failed++;
          console.warn(`failed: ${result.errorCode} ${result.errorMessage}`);
        }
      },
      error: reject,
      complete: resolve,
    }),
  );
  console.log(`observable-pipe: ${ok} records written, ${failed} failed`);
  await target.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
