// Import rules between the src/* folders (see docs/ARCHITECTURE.md): a file's path says
// where it runs and what it may import. A violation fails `npm run lint` and CI.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import vueParser from 'vue-eslint-parser';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'child_process', 'worker_threads', 'crypto', 'http', 'net', 'url', 'zlib', 'stream'];
const pattern = (group, message) => ({ group, message });

const rule = (...patterns) => ['error', { patterns }];

const noElectron = pattern(['electron', 'electron/*'], 'electron may only be imported under src/main/electron/ and src/preload/');
const noNode = pattern(nodeBuiltins, 'Node built-ins are not available here');
const noMain = pattern(['**/main/**', '@main/*'], 'src/main may not be imported from here');
const noEngine = pattern(['**/engine/**'], 'src/engine may not be imported from here');
const noRenderer = pattern(['**/renderer/**', 'vue', 'pinia', 'vue-router', 'echarts', 'vue-echarts', '@tanstack/*'], 'the UI is only for src/renderer');
const noPreload = pattern(['**/preload/**'], 'src/preload may not be imported from here');
const noTf = pattern(['@tensorflow/*', 'webgpu'], 'TensorFlow.js and webgpu belong to src/engine');
const noDbImages = pattern(['better-sqlite3', 'sharp'], 'better-sqlite3 and sharp belong to src/main');

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'test-output/**', 'resources/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/essential'],
  {
    files: ['**/*.vue'],
    languageOptions: { parser: vueParser, parserOptions: { parser: tseslint.parser, sourceType: 'module' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-undef': 'off',
    },
  },
  { files: ['src/shared/**/*.{ts,vue}'], rules: { 'no-restricted-imports': rule(noElectron, noNode, noMain, noEngine, noRenderer, noPreload, noTf, noDbImages) } },
  { files: ['src/engine/**/*.ts'], rules: { 'no-restricted-imports': rule(noElectron, noMain, noRenderer, noPreload, noDbImages) } },
  { files: ['src/main/**/*.ts'], ignores: ['src/main/electron/**'], rules: { 'no-restricted-imports': rule(noElectron, noEngine, noRenderer, noPreload, noTf) } },
  { files: ['src/main/electron/**/*.ts'], rules: { 'no-restricted-imports': rule(noEngine, noRenderer, noPreload, noTf) } },
  { files: ['src/preload/**/*.ts'], rules: { 'no-restricted-imports': rule(noNode, noMain, noEngine, noRenderer, noTf, noDbImages) } },
  { files: ['src/renderer/**/*.{ts,vue}'], rules: { 'no-restricted-imports': rule(noElectron, noNode, noMain, noEngine, noPreload, noTf, noDbImages) } },
);
