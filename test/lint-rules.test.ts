/**
 * The import rules between the src/* folders and between the layers inside src/main
 * (eslint.config.mjs, docs/ARCHITECTURE.md) really fail code that breaks them, and let
 * correct code through: ESLint's Node API lints snippets as if they were files in each
 * folder. The cycle check (`npm run lint:cycles`, dependency-cruiser with
 * .dependency-cruiser.cjs) fails a real import cycle written into src/ for the test.
 */
import { ESLint } from 'eslint';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers';

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: REPO_ROOT });
});

async function lint(file: string, code: string): Promise<{ errors: number; restricted: string[]; messages: string[] }> {
  const [r] = await eslint.lintText(code, { filePath: join(REPO_ROOT, file) });
  return {
    errors: r.errorCount,
    restricted: r.messages.filter((m) => m.ruleId === 'no-restricted-imports' && m.severity === 2).map((m) => m.message),
    messages: r.messages.map((m) => `${m.ruleId}: ${m.message}`),
  };
}

const imp = (spec: string): string => `import x from '${spec}';\nexport default x;\n`;

/** [file, forbidden import, a word the rule's message contains] */
const forbidden: [string, string, string][] = [
  ['src/shared/x.ts', 'node:fs', 'Node built-ins'],
  ['src/shared/x.ts', 'fs', 'Node built-ins'],
  ['src/shared/x.ts', 'electron', 'electron'],
  ['src/shared/x.ts', '../main/db/db', 'src/main'],
  ['src/shared/x.ts', '../engine/model', 'src/engine'],
  ['src/shared/x.ts', 'vue', 'UI'],
  ['src/shared/x.ts', '@tensorflow/tfjs-core', 'TensorFlow'],
  ['src/shared/x.ts', 'better-sqlite3', 'better-sqlite3'],
  ['src/renderer/x.ts', 'node:path', 'Node built-ins'],
  ['src/renderer/x.ts', 'electron', 'electron'],
  ['src/renderer/x.ts', '../main/paths', 'src/main'],
  ['src/renderer/x.ts', '../engine/model', 'src/engine'],
  ['src/renderer/x.ts', '../preload/index', 'src/preload'],
  ['src/renderer/x.ts', 'sharp', 'sharp'],
  ['src/renderer/x.ts', '@tensorflow/tfjs-core', 'TensorFlow'],
  ['src/engine/x.ts', 'electron', 'electron'],
  ['src/engine/x.ts', '../main/db/db', 'src/main'],
  ['src/engine/x.ts', 'vue', 'UI'],
  ['src/engine/x.ts', 'better-sqlite3', 'better-sqlite3'],
  ['src/main/x.ts', 'electron', 'electron'],
  ['src/main/services/x.ts', '../../engine/model', 'src/engine'],
  ['src/main/x.ts', '@tensorflow/tfjs-core', 'TensorFlow'],
  ['src/main/x.ts', 'vue', 'UI'],
  ['src/main/electron/x.ts', '../../renderer/main', 'UI'],
  ['src/preload/x.ts', 'node:fs', 'Node built-ins'],
  ['src/preload/x.ts', '../main/services/app', 'src/main'],
];

const allowed: [string, string][] = [
  ['src/shared/x.ts', 'zod'],
  ['src/shared/x.ts', './spec'],
  ['src/renderer/x.ts', 'vue'],
  ['src/renderer/x.ts', 'pinia'],
  ['src/renderer/x.ts', '../shared/api'],
  ['src/engine/x.ts', '@tensorflow/tfjs-core'],
  ['src/engine/x.ts', 'node:fs'],
  ['src/engine/x.ts', '../shared/spec'],
  ['src/main/x.ts', 'better-sqlite3'],
  ['src/main/x.ts', 'node:child_process'],
  ['src/main/x.ts', '../shared/api'],
  ['src/main/electron/x.ts', 'electron'],
  ['src/preload/x.ts', 'electron'],
  ['src/preload/x.ts', '../shared/api'],
];

/** Layers inside src/main: [file, forbidden import, the folder the rule's message names] */
const layerForbidden: [string, string, string][] = [
  ['src/main/db/x.ts', '../images/png', 'src/main/images/'],
  ['src/main/db/x.ts', '../import/job', 'src/main/import/'],
  ['src/main/db/x.ts', '../services/app', 'src/main/services/'],
  ['src/main/db/x.ts', '../events', 'top-level helpers'],
  ['src/main/blobs.ts', './images/image', 'src/main/images/'],
  ['src/main/paths.ts', './services/app', 'src/main/services/'],
  ['src/main/paths.ts', './engine-launcher', 'top-level helpers'],
  ['src/main/images/x.ts', '../import/ingest', 'src/main/import/'],
  ['src/main/images/x.ts', '../services/quality', 'src/main/services/'],
  ['src/main/images/x.ts', '../events', 'top-level helpers'],
  ['src/main/import/x.ts', '../services/labels/classes', 'src/main/services/'],
  ['src/main/import/x.ts', '../host/server', 'src/main/host/'],
  ['src/main/import/x.ts', '../engine-launcher', 'top-level helpers'],
  ['src/main/events.ts', './services/app', 'src/main/services/'],
  ['src/main/engine-launcher.ts', './host/serve', 'src/main/host/'],
  ['src/main/services/x.ts', '../host/server', 'src/main/host/'],
  ['src/main/services/labels/x.ts', '../../host/server', 'src/main/host/'],
  ['src/main/electron/x.ts', '../host/server', 'src/main/host/'],
];

/** electron/ is kept out of the rest of src/main by the rule for the electron package. */
const electronFolderForbidden: [string, string][] = [
  ['src/main/services/runs/x.ts', '../../electron/main'],
  ['src/main/host/x.ts', '../electron/engine-launcher'],
  ['src/main/import/x.ts', '../electron/main'],
];

const layerAllowed: [string, string][] = [
  ['src/main/db/x.ts', '../paths'],
  ['src/main/db/x.ts', '../../shared/api'],
  ['src/main/blobs.ts', './paths'],
  ['src/main/images/x.ts', '../blobs'],
  ['src/main/images/x.ts', '../db/db'],
  ['src/main/import/x.ts', '../images/phash'],
  ['src/main/import/x.ts', '../blobs'],
  ['src/main/engine-launcher.ts', './events'],
  ['src/main/events.ts', './import/job'],
  ['src/main/services/x.ts', '../import/ingest'],
  ['src/main/services/x.ts', '../images/pool'],
  ['src/main/services/x.ts', '../engine-launcher'],
  ['src/main/services/labels/x.ts', '../../db/db'],
  ['src/main/services/labels/x.ts', '../runs/store'],
  ['src/main/host/x.ts', '../services/app'],
  ['src/main/host/x.ts', '../events'],
  ['src/main/electron/x.ts', '../services/api-router'],
  ['src/main/electron/x.ts', '../engine-launcher'],
];

describe('ESLint import rules between src/* folders', () => {
  it.each(forbidden)('%s may not import %s', async (file, spec, word) => {
    const r = await lint(file, imp(spec));
    expect(r.restricted, r.messages.join('\n')).toHaveLength(1);
    expect(r.restricted[0]).toContain(word);
    expect(r.errors).toBeGreaterThan(0);
  });

  it.each(allowed)('%s may import %s', async (file, spec) => {
    const r = await lint(file, imp(spec));
    expect(r.messages).toEqual([]);
  });

  it('applies to .vue files in the renderer and to export … from', async () => {
    const vue = await lint('src/renderer/components/FileView.vue', `<template><div /></template>\n<script setup lang="ts">\nimport { readFileSync } from 'node:fs';\nconsole.log(readFileSync);\n</script>\n`);
    expect(vue.restricted).toHaveLength(1);
    const ok = await lint('src/renderer/components/CounterView.vue', `<template><div>{{ n }}</template>\n<script setup lang="ts">\nimport { ref } from 'vue';\nconst n = ref(1);\n</script>\n`);
    expect(ok.messages).toEqual([]);
    const reexport = await lint('src/shared/y.ts', `export { openDatabase } from '../main/db/db';\n`);
    expect(reexport.restricted).toHaveLength(1);
  });
});

describe('ESLint layer rules inside src/main (storage → images → import → services → host / electron)', () => {
  it.each(layerForbidden)('%s may not import %s', async (file, spec, word) => {
    const r = await lint(file, imp(spec));
    expect(r.restricted, r.messages.join('\n')).toHaveLength(1);
    expect(r.restricted[0]).toContain(word);
    expect(r.restricted[0]).toContain('storage → images → import → services → host / electron');
  });

  it.each(layerAllowed)('%s may import %s', async (file, spec) => {
    const r = await lint(file, imp(spec));
    expect(r.messages).toEqual([]);
  });

  it.each(electronFolderForbidden)('%s may not import %s', async (file, spec) => {
    const r = await lint(file, imp(spec));
    expect(r.restricted, r.messages.join('\n')).toHaveLength(1);
    expect(r.restricted[0]).toContain('only be imported under src/main/electron/');
  });

  it('applies to export … from', async () => {
    const reexport = await lint('src/main/import/y.ts', `export { createApp } from '../services/app';\n`);
    expect(reexport.restricted).toHaveLength(1);
    expect(reexport.restricted[0]).toContain('src/main/services/');
  });
});

describe('cycle check over src (npm run lint:cycles)', () => {
  /** The CI command from package.json, run in the repository with node_modules/.bin on PATH. */
  function lintCycles(): { status: number | null; out: string } {
    const script = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['lint:cycles'];
    const r = spawnSync('sh', ['-c', script], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${join(REPO_ROOT, 'node_modules', '.bin')}:${process.env.PATH}`, NO_COLOR: '1' },
    });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  }

  it('fails an import cycle in src (type-only imports too) naming its files, not a file that only imports into it; fails an import that does not resolve', () => {
    // A real folder under src/, so that the check runs exactly as in CI; valid, lint-clean
    // TypeScript, so that a concurrent tsc or eslint over src is not disturbed.
    const probe = `zz-cycle-probe-${process.pid}`;
    const dir = join(REPO_ROOT, 'src', 'main', probe);
    mkdirSync(dir);
    try {
      writeFileSync(join(dir, 'a.ts'), `import { b } from './b';\nexport const a = (): number => b() + 1;\n`);
      writeFileSync(join(dir, 'b.ts'), `import type { C } from './c';\nexport const b = (c?: C): number => c?.n ?? 0;\n`);
      writeFileSync(join(dir, 'c.ts'), `import { a } from './a';\nexport interface C { n: number }\nexport const c = (): number => a();\n`);
      writeFileSync(join(dir, 'd.ts'), `import { a } from './a';\nexport const d = (): number => a();\n`);
      writeFileSync(join(dir, 'e.ts'), `// @ts-nocheck: the import is missing on purpose\nexport { gone } from './gone';\n`);
      const r = lintCycles();
      expect(r.status, r.out).not.toBe(0);
      // One violation per `error <rule>: from → … ` entry of the err reporter.
      const cyclic = r.out
        .split(/\n\s*(?=error )/)
        .filter((e) => e.startsWith('error no-circular: '))
        .map((e) => e.slice('error no-circular: '.length).replace(/\s+/g, ' '));
      const ours = cyclic.filter((e) => e.includes(probe));
      // a → b → c → a, reported once.
      expect(ours, r.out).toHaveLength(1);
      for (const f of ['a.ts', 'b.ts', 'c.ts']) expect(ours[0], r.out).toContain(`src/main/${probe}/${f}`);
      expect(ours[0], r.out).not.toContain(`${probe}/d.ts`);
      expect(r.out).toContain(`error not-to-unresolvable: src/main/${probe}/e.ts → ./gone`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
