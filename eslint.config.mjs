// Import rules between the src/* folders and between the layers inside src/main (see
// docs/ARCHITECTURE.md): a file's path says where it runs and what it may import. A
// violation fails `npm run lint` and CI (tested in test/lint-rules.test.ts). Import cycles
// are dependency-cruiser's (.dependency-cruiser.cjs, `npm run lint:cycles`).
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

// The layers inside src/main, lowest first: storage (db/, blobs.ts, paths.ts) → images/ →
// import/ → services/ (with the helpers beside it: events.ts, engine-launcher.ts, any other
// top-level file) → host/ and electron/ (two transports side by side). A layer imports only
// from the layers before it. Only relative imports can reach these folders, so the patterns
// match relative specifiers: `../images/png`, `../../host/server`, `./services/app`.
const LAYERS = 'src/main layers: storage → images → import → services → host / electron (docs/ARCHITECTURE.md)';
const above = (folder) => ({ regex: `^\\.\\.?/(\\.\\./)*${folder}(/|$)`, message: `src/main/${folder}/ is not in a lower layer than this file; ${LAYERS}` });
const noImagesLayer = above('images');
const noImportLayer = above('import');
const noServicesLayer = above('services');
const noHostLayer = above('host');
// A top-level src/main file other than the storage files, seen from a file one folder down
// (db/, images/, import/) or from blobs.ts / paths.ts.
const helper = (dots) => ({ regex: `^${dots}/(?!blobs$|paths$)[^/]+$`, message: `src/main's top-level helpers (events.ts, engine-launcher.ts, …) sit beside services/, not in a lower layer than this file; ${LAYERS}` });
const noHelpersBelow = helper('\\.\\.');
const noHelpersBeside = helper('\\.');
const mainTop = [noElectron, noEngine, noRenderer, noPreload, noTf];
// electron/ needs no layer pattern: noElectron (its glob `electron/*` matches `../electron/main`)
// already keeps it out of every other src/main file. ESLint sees static imports and
// `export … from`, not `import()`; dependency-cruiser's cycle check sees those too.
const belowServices = [noServicesLayer, noHostLayer];

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
  { files: ['src/main/**/*.ts'], ignores: ['src/main/electron/**'], rules: { 'no-restricted-imports': rule(...mainTop) } },
  // Layers inside src/main (later blocks replace the rule's options for their files).
  { files: ['src/main/db/**/*.ts'], rules: { 'no-restricted-imports': rule(...mainTop, noImagesLayer, noImportLayer, ...belowServices, noHelpersBelow) } },
  { files: ['src/main/blobs.ts', 'src/main/paths.ts'], rules: { 'no-restricted-imports': rule(...mainTop, noImagesLayer, noImportLayer, ...belowServices, noHelpersBeside) } },
  { files: ['src/main/images/**/*.ts'], rules: { 'no-restricted-imports': rule(...mainTop, noImportLayer, ...belowServices, noHelpersBelow) } },
  { files: ['src/main/import/**/*.ts'], rules: { 'no-restricted-imports': rule(...mainTop, ...belowServices, noHelpersBelow) } },
  { files: ['src/main/*.ts'], ignores: ['src/main/blobs.ts', 'src/main/paths.ts'], rules: { 'no-restricted-imports': rule(...mainTop, ...belowServices) } },
  { files: ['src/main/services/**/*.ts'], rules: { 'no-restricted-imports': rule(...mainTop, noHostLayer) } },
  { files: ['src/main/electron/**/*.ts'], rules: { 'no-restricted-imports': rule(noEngine, noRenderer, noPreload, noTf, noHostLayer) } },
  { files: ['src/preload/**/*.ts'], rules: { 'no-restricted-imports': rule(noNode, noMain, noEngine, noRenderer, noTf, noDbImages) } },
  { files: ['src/renderer/**/*.{ts,vue}'], rules: { 'no-restricted-imports': rule(noElectron, noNode, noMain, noEngine, noPreload, noTf, noDbImages) } },
);
