import { readFileSync } from 'node:fs';
const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const byId = new Map<number, any>(profile.nodes.map((n: any) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const incl = new Map<string, number>(); let total = 0;
profile.samples.forEach((id: number, i: number) => {
  const dt = profile.timeDeltas[i] ?? 0; total += dt;
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const f = byId.get(cur).callFrame;
    const k = `${f.functionName || '(anon)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    if (!seen.has(k)) { seen.add(k); incl.set(k, (incl.get(k) ?? 0) + dt); }
  }
});
const filter = process.argv[3] ? new RegExp(process.argv[3]) : /lib\/|operators\/|producer\/|codec\//;
for (const [k, v] of [...incl].filter(([k]) => filter.test(k)).sort((a, b) => b[1] - a[1]).slice(0, 45)) console.log(((100 * v) / total).toFixed(1).padStart(5) + '%', (v / 1000).toFixed(0).padStart(6), k);
