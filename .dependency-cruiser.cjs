// The cycle check over all of src (`npm run lint:cycles`, a step of scripts/test-all.sh;
// tested in test/lint-rules.test.ts). ESLint (eslint.config.mjs) holds the layer rules
// between folders; this holds what a per-file linter cannot see: no chain of imports,
// type-only ones included, leads from a module back to itself. Every import must resolve,
// so that a cycle through a misspelt or vanished path cannot slip past.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: split the shared part into a module both sides import from a lower layer (docs/ARCHITECTURE.md).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve to a file or an installed package.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Count `import type` too: a type-only circle still ties two modules together.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
