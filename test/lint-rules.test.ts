/**
 * The import rules between the src/* folders (eslint.config.mjs, docs/ARCHITECTURE.md)
 * really fail code that breaks them, and let correct code through: ESLint's Node API
 * lints snippets as if they were files in each folder.
 */
import { ESLint } from 'eslint';
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
