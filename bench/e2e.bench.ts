/**
 * Summary of the end-to-end benchmark for `npm run bench`: one round of 200,000 records × 100 B
 * (1,000 keys, 256 shards) per contender against the canned stub in its own process, with the
 * ratio against the hand-written aws-kinesis-agg baseline. The full run (1,000,000 records,
 * 3 alternating rounds, medians) is `npm run bench:e2e` (bench/e2e/run.ts).
 *
 * ```text
 * node -r ts-node/register/transpile-only bench/e2e.bench.ts
 * ```
 */
import { allVerified, CONTENDERS, runE2e, table } from './e2e/run';

async function main(): Promise<void> {
  const options = { records: 200000, rounds: 1, keys: 1000, bytes: 100, shards: 256, contenders: CONTENDERS };
  console.log('e2e (summary): 200,000 records × 100 B, 1,000 keys, 256 shards, 1 round; full run: npm run bench:e2e');
  const runs = await runE2e(options);
  console.log(`\n${table(runs)}`);
  console.log('\ntarget (issue 9): rxkpl ≥ 4× the hand-written baseline (~800k records/s), stretch 1M records/s');
  if (!allVerified(runs)) {
    console.log('FAIL: a run lost or failed records (see above)');
    process.exitCode = 1;
  }
}

void main();
