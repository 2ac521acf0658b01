// The architecture of src/ as rules (run by `npm run check:layers`, part of `npm test`).
// docs/architecture.md explains the levels; each rule's comment says what it protects.
//
//   shared   src/errors.ts, src/version.ts, src/internal/
//   L0       src/ops/
//   L1       src/quantizer/, src/decoder/, src/classifier/
//   L2       src/losses/, src/targets/, src/metrics/, src/baselines/, src/training/
//   L3       src/api/
//   side     src/io/ (artifact format), src/backends/, src/audio/, src/visualize/, src/node/
//            (src/node/root.ts: the main entry as Node loads it, main entry + file:// router)
//
// A module may import its own folder and the levels below it; side modules have the directions
// stated below. A violation prints `error <rule>: <importing file> → <imported file>`.

const SHARED = ['^src/errors[.]ts$', '^src/version[.]ts$', '^src/internal/'];
const L0 = ['^src/ops/'];
const L1 = ['^src/(quantizer|decoder|classifier)/'];
const L2 = ['^src/(losses|targets|metrics|baselines|training)/'];
const IO = ['^src/io/'];

/** An error for every import matching `from` → `to`. */
function forbid(name, comment, from, to) {
  return { name, comment, severity: 'error', from, to };
}

/** Modules matching `from` may import, of src/, only what matches `allowed`. */
function onlyImports(name, comment, from, allowed) {
  return forbid(name, comment, { path: from }, { path: '^src/', pathNot: allowed });
}

module.exports = {
  forbidden: [
    onlyImports('shared-imports-shared', 'errors, version and internal/ are the bottom: they import nothing else of src/.', '^src/(errors[.]ts|version[.]ts|internal/)', SHARED),
    onlyImports('L0-ops', 'L0 ops are pure tensor functions over shared helpers.', '^src/ops/', [...SHARED, ...L0]),
    onlyImports(
      'L1-no-lateral',
      'L1 (quantizer, decoder, classifier) builds on L0 and shared only, and its folders do not import each other.',
      '^src/(quantizer|decoder|classifier)/',
      [...SHARED, ...L0, '^src/$1/'],
    ),
    onlyImports(
      'L2-no-lateral',
      'L2 (losses, targets, metrics, baselines) builds on L1, L0 and shared; its folders do not import each other.',
      '^src/(losses|targets|metrics|baselines)/',
      [...SHARED, ...L0, ...L1, '^src/$1/'],
    ),
    onlyImports(
      'L2-training',
      'training assembles a model from L1 parts, losses and targets, and saves checkpoints through io; it never reaches metrics, baselines or L3.',
      '^src/training/',
      [...SHARED, ...L0, ...L1, '^src/(training|losses|targets)/', ...IO],
    ),
    onlyImports('L3-api', 'api (the Interpreter) may use every level below and io, but no side module (audio, visualize, backends, node).', '^src/api/', [...SHARED, ...L0, ...L1, ...L2, ...IO, '^src/api/']),
    onlyImports('side-io', 'io is the artifact format: shared helpers only; training, api and node use it.', '^src/io/', [...SHARED, ...IO]),
    onlyImports('side-backends', 'backends/ registers kernels; it depends on nothing of the library.', '^src/backends/', [...SHARED, '^src/backends/']),
    onlyImports('side-audio', 'audio/ (the piq-tfjs/audio subpath) is a front end of its own over shared helpers.', '^src/audio/', [...SHARED, '^src/audio/']),
    forbid(
      'side-node',
      'node/ (piq-tfjs/node) is an IO handler: io and shared helpers only.',
      { path: '^src/node/', pathNot: '^src/node/root[.]ts$' },
      { path: '^src/', pathNot: [...SHARED, ...IO, '^src/node/'] },
    ),
    onlyImports(
      'node-root-entry',
      "node/root.ts is the main entry as Node loads it (the package's `node` condition): the main entry plus the file:// router, nothing else.",
      '^src/node/root[.]ts$',
      ['^src/index[.]ts$', '^src/node/file-system[.]ts$'],
    ),
    onlyImports(
      'side-visualize',
      'visualize/ (piq-tfjs/visualize) never loads tfjs: it may share only the tfjs-free errors.ts and internal/checks.ts.',
      '^src/visualize/',
      ['^src/errors[.]ts$', '^src/internal/checks[.]ts$', '^src/visualize/'],
    ),
    forbid('root-entry-no-subpaths', 'The root entry (src/index.ts) stays free of the subpath modules, which have entries of their own.', { path: '^src/index[.]ts$' }, { path: '^src/(audio|visualize|node)/' }),
    forbid('tfjs-free-modules', 'visualize/ and the helpers it shares run without tfjs.', { path: '^src/(visualize/|internal/checks[.]ts$|errors[.]ts$)' }, { path: '@tensorflow/' }),
    forbid('no-backend-import', 'src/ never imports a tfjs backend: applications choose one.', { path: '^src/' }, { path: '@tensorflow/tfjs-(backend-|node)' }),
    forbid('node-builtins-only-in-node', 'Only the piq-tfjs/node subpath may use Node built-ins; the rest runs in browsers.', { path: '^src/', pathNot: '^src/node/' }, { dependencyTypes: ['core'] }),
    forbid('no-circular', 'Modules form a tree of levels: no import cycles.', { path: '^src/' }, { circular: true }),
    forbid('not-to-unresolvable', 'Every import resolves.', { path: '^src/' }, { couldNotResolve: true }),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
