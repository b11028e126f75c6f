import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * `npm run lint` holds the layers and the format (docs/architecture.md#layers): run its
 * dependency-cruiser and Prettier steps, with the repository's own config files, on a small tree
 * planted in a temp directory, and check that a wrong-way import, a cycle and unformatted code
 * each fail it while a tree that keeps the rules passes.
 */

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = (name: string): string => join(root, 'node_modules/.bin', name);
const lintScript = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { lint: string } })
  .scripts.lint;

interface Outcome {
  code: number;
  output: string;
}

async function exec(cmd: string, args: string[], cwd: string): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

let dir: string;
/** A fresh tree under the temp directory with the repository's lint config files. */
function tree(name: string, files: Record<string, string>): string {
  const base = join(dir, name);
  for (const config of ['.dependency-cruiser.cjs', 'tsconfig.json', '.prettierrc.json']) {
    mkdirSync(base, { recursive: true });
    copyFileSync(join(root, config), join(base, config));
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(base, path)), { recursive: true });
    writeFileSync(join(base, path), text);
  }
  return base;
}

const cruise = (cwd: string): Promise<Outcome> =>
  exec(bin('depcruise'), ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], cwd);

/** Layers that hold: a worker stage and the server import shared/, shared imports shared/. */
const clean = {
  'src/shared/keys.ts': 'export const key = (s: string): string => `k:${s}`;\n',
  'src/shared/ledger/ledger.ts': "import { key } from '../keys.ts';\n\nexport const ledgerKey = key('ledger');\n",
  'src/workers/identity/processor.ts':
    "import { ledgerKey } from '../../shared/ledger/ledger.ts';\n\nexport const k = ledgerKey;\n",
  'src/server/app.ts': "import { key } from '../shared/keys.ts';\n\nexport const app = key('app');\n",
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lint-rules-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run lint', () => {
  it('runs dependency-cruiser with the layer rules and prettier --check', () => {
    expect(lintScript).toContain('depcruise src --config .dependency-cruiser.cjs --output-type err');
    expect(lintScript).toContain('prettier --check');
  });

  it('passes a tree whose imports point inward', async () => {
    const result = await cruise(tree('clean', clean));
    expect(result.output).toContain('no dependency violations found');
    expect(result.code).toBe(0);
  });

  it('fails when shared/ imports a worker', async () => {
    const result = await cruise(
      tree('shared-up', {
        ...clean,
        'src/shared/health.ts': "import { k } from '../workers/identity/processor.ts';\n\nexport const h = k;\n",
      }),
    );
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('shared-is-the-core');
    expect(result.output).toContain('src/shared/health.ts → src/workers/identity/processor.ts');
  });

  it('fails when a worker imports the server, or one stage another', async () => {
    const result = await cruise(
      tree('worker-sideways', {
        ...clean,
        'src/workers/extension/processor.ts':
          "import { k } from '../identity/processor.ts';\nimport { app } from '../../server/app.ts';\n\nexport const e = [k, app];\n",
      }),
    );
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('worker-stages-are-independent');
    expect(result.output).toContain('workers-import-only-shared');
  });

  it('fails on a cycle', async () => {
    const result = await cruise(
      tree('cycle', {
        ...clean,
        'src/shared/a.ts': "import { b } from './b.ts';\n\nexport const a = (): number => b() + 1;\n",
        'src/shared/b.ts': "import { a } from './a.ts';\n\nexport const b = (): number => (a ? 1 : 0);\n",
      }),
    );
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('no-cycles');
  });

  it('fails on unformatted code, and passes it once formatted', async () => {
    const base = tree('format', { 'src/shared/keys.ts': 'export const key = (s:string):string=>"k:"+s\n' });
    const check = await exec(bin('prettier'), ['--check', '--log-level', 'warn', 'src'], base);
    expect(check.code).not.toBe(0);
    expect(check.output).toContain('src/shared/keys.ts');
    await exec(bin('prettier'), ['--write', '--log-level', 'warn', 'src'], base);
    expect((await exec(bin('prettier'), ['--check', '--log-level', 'warn', 'src'], base)).code).toBe(0);
  });
});
