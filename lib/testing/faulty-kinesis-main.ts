/**
 * Runs {@link startFaultyKinesis} as its own process (for benchmarks: the stub's JSON and base64
 * work then does not share the producer's event loop). Options are JSON, from the first argument
 * or from the `FAULTY_KINESIS_OPTIONS` environment variable; behaviour functions cannot be passed
 * this way, only the declarative fields. Prints `LISTENING <port>` on stdout once ready, and
 * closes on SIGTERM/SIGINT, and, when spawned by `startFaultyKinesisProcess` (`FAULTY_KINESIS_PARENT=1`),
 * when stdin ends (so it never outlives its parent).
 *
 * @example node -r ts-node/register/transpile-only lib/testing/faulty-kinesis-main.ts '{"streams":{"s":8},"store":false}'
 */
import { startFaultyKinesis, type FaultyKinesisOptions } from './faulty-kinesis';

async function main(): Promise<void> {
  const text = process.argv[2] ?? process.env['FAULTY_KINESIS_OPTIONS'];
  if (text === undefined) throw new Error('pass the options as JSON: faulty-kinesis-main \'{"streams":{"s":4}}\'');
  const options = JSON.parse(text) as FaultyKinesisOptions;
  const stub = await startFaultyKinesis(options);
  // Nobody in this process uses the client: release its agents right away.
  stub.client.destroy();
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void stub.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (process.env['FAULTY_KINESIS_PARENT'] === '1') {
    // Spawned by startFaultyKinesisProcess: the parent holds our stdin, so its end means the parent is gone.
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
  process.stdout.write(`LISTENING ${new URL(stub.endpoint).port}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`faulty-kinesis-main: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
