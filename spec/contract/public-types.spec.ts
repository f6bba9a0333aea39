/**
 * What a user's compiler sees: the declarations `npm run build` publishes (tsconfig.build.json).
 * ARCHITECTURE.md: `lib/index.ts` is the public surface, with no `any` in public types. Members
 * marked `@internal` (the class's `submit`, used by the Writable) must not be published as API, and
 * the declarations must type-check on their own (nothing they name was stripped).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

describe('published declarations (npm run build)', () => {
  let out: string;
  let declarations: string[];

  beforeAll(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkpl-dts-'));
    execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--emitDeclarationOnly', '--outDir', out], {
      cwd: root,
    });
    declarations = (fs.readdirSync(out, { recursive: true }) as string[]).filter((f) => f.endsWith('.d.ts')).map((f) => path.join(out, f));
    // The declarations import rxjs and the SDK: resolve them as an installed package would.
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(out, 'node_modules'), 'dir');
  }, 120_000);

  afterAll(() => {
    fs.unlinkSync(path.join(out, 'node_modules')); // the link only, before removing the rest
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('leaves out @internal members: KinesisProducer has no submit', () => {
    const dts = fs.readFileSync(path.join(out, 'producer', 'kinesis-producer-class.d.ts'), 'utf8');
    expect(dts).toContain('put(record: UserRecord): Promise<RecordResult>;');
    expect(dts).not.toMatch(/\bsubmit\(/);
  });

  it('has no `any` in a declaration', () => {
    const offenders = declarations.flatMap((file) =>
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => !/^\s*(\/\*\*|\*)/.test(line) && /\bany\b/.test(line))
        .map((line) => `${path.relative(out, file)}: ${line.trim()}`),
    );
    expect(offenders).toEqual([]);
  });

  it('type-checks on its own, as a user compiling against it (skipLibCheck off)', () => {
    const user = path.join(out, 'user.ts');
    fs.writeFileSync(
      user,
      [
        "import { KinesisProducer, kinesisProducer, type RecordResult } from './index';",
        "import { startFaultyKinesis } from './testing/index';",
        "const producer = new KinesisProducer({ streamName: 's' });",
        "const result: Promise<RecordResult> = producer.put({ partitionKey: 'a', data: 'x' });",
        "const operator = kinesisProducer({ client: { send: () => Promise.resolve({}) } as never, streamName: 's' });",
        'export { result, operator, startFaultyKinesis };',
      ].join('\n'),
    );
    const args = [tsc, '--noEmit', '--strict', '--skipLibCheck', 'false', '--target', 'ES2022', '--module', 'commonjs'];
    args.push('--moduleResolution', 'node', '--types', 'node', '--typeRoots', path.join(root, 'node_modules', '@types'), user);
    let diagnostics = '';
    try {
      execFileSync(process.execPath, args, { cwd: out, stdio: 'pipe' });
    } catch (err) {
      diagnostics = String((err as { stdout?: Buffer }).stdout ?? err);
    }
    expect(diagnostics).toBe('');
  }, 120_000);
});
