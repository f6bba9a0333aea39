/**
 * Self time per function of a V8 `.cpuprofile` (from `node --cpu-prof`), highest first.
 *
 * ```text
 * node -r ts-node/register/transpile-only bench/e2e/cpuprofile-top.ts <file.cpuprofile> [top=40]
 * ```
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topText] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: cpuprofile-top <file.cpuprofile> [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const node = byId.get(id)!;
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const f = node.callFrame;
  const where = f.url === '' ? '' : `${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  const key = `${f.functionName || '(anonymous)'} ${where}`;
  self.set(key, (self.get(key) ?? 0) + dt);
});
const top = Number(topText ?? 40);
console.log(`total ${(total / 1e6).toFixed(2)} s`);
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
}
