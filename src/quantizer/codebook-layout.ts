import { PiqConfigError, PiqInputError } from '../errors';
import { describe, nonNegativeInt, oneOf, optionKeys, optionsObject, positiveInt } from '../internal/checks';

/**
 * Where the shared rows sit in the codebook: after the class blocks (`'last'`, as the
 * SpeechBrain reference does) or before them (`'first'`).
 * @category Quantizer
 */
export type SharedPlacement = 'last' | 'first';

/**
 * Options for {@link CodebookLayout}. Give `codesPerClass` for equal blocks, or `codebookSize`
 * for the reference's near-equal split of `codebookSize − sharedCodes` rows over the classes
 * (or both, when they agree: then the blocks are equal).
 * @category Quantizer
 */
export interface CodebookLayoutOptions {
  /** Number of classes `C` of the classifier. */
  numClasses: number;
  /**
   * Rows owned by each class (equal blocks). Required unless `codebookSize` is given.
   * @defaultValue undefined (derived from `codebookSize`)
   */
  codesPerClass?: number;
  /**
   * Total number of rows `K`, split as the reference does: `K − S` rows into `C` contiguous,
   * near-equal blocks (`round(linspace(−0.5, C − 0.51, K − S))`). Required unless `codesPerClass` is given.
   * @defaultValue undefined (`numClasses · codesPerClass + sharedCodes`)
   */
  codebookSize?: number;
  /**
   * Rows `S` usable by every class.
   * @defaultValue 0
   */
  sharedCodes?: number;
  /**
   * Whether the shared rows come after (`'last'`, the reference) or before (`'first'`) the class blocks.
   * @defaultValue 'last'
   */
  sharedPlacement?: SharedPlacement;
}

const LAYOUT_KEYS = optionKeys<CodebookLayoutOptions>({ numClasses: true, codesPerClass: true, codebookSize: true, sharedCodes: true, sharedPlacement: true });

/**
 * Resolved, JSON-serializable layout: what {@link CodebookLayout.getConfig} returns.
 * `codesPerClass` is `null` when the blocks come from the reference split of `codebookSize`.
 * @category Quantizer
 */
export interface CodebookLayoutConfig {
  numClasses: number;
  codesPerClass: number | null;
  codebookSize: number;
  sharedCodes: number;
  sharedPlacement: SharedPlacement;
}

/**
 * A contiguous range of codebook rows, `[start, start + size)`.
 * @category Quantizer
 */
export interface RowBlock {
  start: number;
  size: number;
}

/**
 * Options of {@link CodebookLayout.allowedRows}.
 * @category Quantizer
 */
export interface AllowedRowsOptions {
  /**
   * Whether the shared rows are included.
   * @defaultValue true
   */
  includeShared?: boolean;
}

const ALLOWED_ROWS_KEYS = optionKeys<AllowedRowsOptions>({ includeShared: true });

/**
 * A padded table of the rows each class may use, one line per class, as the quantizer's
 * gather-based search consumes it. Lines shorter than `width` are padded by repeating their
 * first row: a duplicate never changes the nearest distance and maps to the same global row.
 * @category Quantizer
 */
export interface SearchTable {
  /** Row indices, `[numClasses × width]`, row-major. */
  rows: Int32Array;
  /** The largest number of rows any class may use. */
  width: number;
}

/**
 * Default values of the optional {@link CodebookLayoutOptions} fields.
 */
export const DEFAULT_CODEBOOK_LAYOUT_OPTIONS = Object.freeze({
  sharedCodes: 0,
  sharedPlacement: 'last' as SharedPlacement,
});

const OWNER = 'CodebookLayout';

/** Round half to even, as torch.round does. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff === 0.5) return floor % 2 === 0 ? floor : floor + 1;
  return Math.round(x);
}

/**
 * Class of each of the `m` class-owned rows in the SpeechBrain reference
 * (`get_irrelevant_regions`: `torch.round(torch.linspace(-0.5, C - 0.51, m))`), emulating
 * torch's scalar float32 linspace formula (`start + step·i` for the first half, `end − step·(m−1−i)`
 * for the second) and round-half-to-even.
 */
function referenceClassOfRows(numClasses: number, m: number): Int32Array {
  const f = Math.fround;
  const out = new Int32Array(m);
  if (m === 1) return out;
  const start = -0.5;
  const end = f(numClasses - 0.51);
  const step = f(f(end - start) / (m - 1));
  const half = Math.floor(m / 2);
  for (let i = 0; i < m; i++) {
    const v = i < half ? f(start + f(step * i)) : f(end - f(step * (m - 1 - i)));
    out[i] = roundHalfEven(v) + 0; // + 0 turns -0 into 0
  }
  return out;
}

/**
 * Which codebook rows belong to which class, plus shared rows that every class may use.
 *
 * Class `c` owns one contiguous block of rows; the `sharedCodes` rows sit after all blocks
 * (`sharedPlacement: 'last'`, the SpeechBrain reference) or before them (`'first'`). Blocks are
 * equal (`codesPerClass`) or, from `codebookSize`, split exactly as the reference does, where
 * neighbouring blocks may differ in size.
 *
 * @example
 * ```ts
 * import { CodebookLayout } from 'piq-tfjs';
 * const layout = new CodebookLayout({ numClasses: 3, codebookSize: 7 }); // reference split
 * console.log(layout.blockOf(0), layout.blockOf(2)); // { start: 0, size: 3 } { start: 5, size: 2 }
 * const withShared = new CodebookLayout({ numClasses: 2, codesPerClass: 2, sharedCodes: 1 });
 * console.log(withShared.allowedRows(1)); // [2, 3, 4]
 * ```
 * @category Quantizer
 */
export class CodebookLayout {
  /** Number of classes `C`. */
  readonly numClasses: number;
  /** Total number of rows `K`. */
  readonly codebookSize: number;
  /** Number of shared rows `S`. */
  readonly sharedCodes: number;
  /** Where the shared rows sit. */
  readonly sharedPlacement: SharedPlacement;
  /** Rows per class when the blocks are equal; `null` for the reference split. */
  readonly codesPerClass: number | null;
  private readonly blocks: readonly RowBlock[];
  private readonly shared: RowBlock;

  constructor(options: CodebookLayoutOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new PiqConfigError(`${OWNER}.constructor: 'options' must be an object, got ${describe(options)}.`);
    }
    optionsObject(`${OWNER}.constructor`, options, LAYOUT_KEYS);
    const numClasses = positiveInt(`${OWNER}.constructor`, 'numClasses', options.numClasses);
    const sharedCodes = nonNegativeInt(
      `${OWNER}.constructor`,
      'sharedCodes',
      options.sharedCodes ?? DEFAULT_CODEBOOK_LAYOUT_OPTIONS.sharedCodes,
    );
    const sharedPlacement = oneOf(
      `${OWNER}.constructor`,
      'sharedPlacement',
      options.sharedPlacement ?? DEFAULT_CODEBOOK_LAYOUT_OPTIONS.sharedPlacement,
      ['last', 'first'] as const,
    );
    const cpc =
      options.codesPerClass === undefined || options.codesPerClass === null
        ? null
        : positiveInt(`${OWNER}.constructor`, 'codesPerClass', options.codesPerClass);
    const size =
      options.codebookSize === undefined || options.codebookSize === null
        ? null
        : positiveInt(`${OWNER}.constructor`, 'codebookSize', options.codebookSize);
    if (cpc === null && size === null) {
      throw new PiqConfigError(
        `${OWNER}.constructor: 'codesPerClass' or 'codebookSize' must be given, got neither. Pass codesPerClass for equal blocks or codebookSize for the reference split.`,
      );
    }
    let codebookSize: number;
    if (cpc !== null) {
      codebookSize = numClasses * cpc + sharedCodes;
      if (size !== null && size !== codebookSize) {
        throw new PiqConfigError(
          `${OWNER}.constructor: 'codebookSize' must equal numClasses · codesPerClass + sharedCodes = ${codebookSize}, got ${size}. Pass only one of codesPerClass and codebookSize.`,
        );
      }
    } else {
      codebookSize = size as number;
      if (codebookSize - sharedCodes < numClasses) {
        throw new PiqConfigError(
          `${OWNER}.constructor: 'codebookSize' must be at least numClasses + sharedCodes = ${numClasses + sharedCodes} so every class owns a row, got ${codebookSize}. Enlarge the codebook or reduce sharedCodes.`,
        );
      }
    }
    const offset = sharedPlacement === 'first' ? sharedCodes : 0;
    const blocks: RowBlock[] = [];
    if (cpc !== null) {
      for (let c = 0; c < numClasses; c++) blocks.push({ start: offset + c * cpc, size: cpc });
    } else {
      const owners = referenceClassOfRows(numClasses, codebookSize - sharedCodes);
      const sizes = new Array<number>(numClasses).fill(0);
      for (const c of owners) sizes[c] = (sizes[c] ?? 0) + 1;
      let start = offset;
      for (let c = 0; c < numClasses; c++) {
        const s = sizes[c] ?? 0;
        if (s === 0) {
          throw new PiqConfigError(
            `${OWNER}.constructor: 'codebookSize' ${codebookSize} leaves class ${c} without rows in the reference split. Enlarge the codebook.`,
          );
        }
        blocks.push({ start, size: s });
        start += s;
      }
    }
    this.numClasses = numClasses;
    this.codebookSize = codebookSize;
    this.sharedCodes = sharedCodes;
    this.sharedPlacement = sharedPlacement;
    this.codesPerClass = cpc;
    this.blocks = Object.freeze(blocks.map((b) => Object.freeze(b)));
    this.shared = Object.freeze({ start: sharedPlacement === 'first' ? 0 : codebookSize - sharedCodes, size: sharedCodes });
  }

  /** Rebuilds a layout from {@link CodebookLayout.getConfig}'s output. */
  static fromConfig(config: CodebookLayoutConfig): CodebookLayout {
    if (typeof config !== 'object' || config === null) {
      throw new PiqConfigError(`${OWNER}.fromConfig: 'config' must be an object, got ${describe(config)}.`);
    }
    return new CodebookLayout({
      numClasses: config.numClasses,
      codesPerClass: config.codesPerClass ?? undefined,
      codebookSize: config.codebookSize,
      sharedCodes: config.sharedCodes,
      sharedPlacement: config.sharedPlacement,
    });
  }

  /** The resolved, JSON-serializable configuration. */
  getConfig(): CodebookLayoutConfig {
    return {
      numClasses: this.numClasses,
      codesPerClass: this.codesPerClass,
      codebookSize: this.codebookSize,
      sharedCodes: this.sharedCodes,
      sharedPlacement: this.sharedPlacement,
    };
  }

  /** The block of rows class `classIndex` owns (shared rows excluded). */
  blockOf(classIndex: number): RowBlock {
    this.checkClass('blockOf', classIndex);
    const b = this.blocks[classIndex] as RowBlock;
    return { start: b.start, size: b.size };
  }

  /** The block of shared rows (`size` 0 when there are none). */
  sharedBlock(): RowBlock {
    return { start: this.shared.start, size: this.shared.size };
  }

  /** Rows class `classIndex` may use, ascending: its block, plus the shared rows unless excluded. */
  allowedRows(classIndex: number, options: AllowedRowsOptions = {}): number[] {
    this.checkClass('allowedRows', classIndex);
    const includeShared = optionsObject(`${OWNER}.allowedRows`, options, ALLOWED_ROWS_KEYS).includeShared ?? true;
    if (typeof includeShared !== 'boolean') {
      throw new PiqConfigError(
        `${OWNER}.allowedRows: 'includeShared' must be true or false, got ${describe(includeShared)}.`,
      );
    }
    const b = this.blocks[classIndex] as RowBlock;
    const rows: number[] = [];
    const pushShared = (): void => {
      if (includeShared) for (let i = 0; i < this.shared.size; i++) rows.push(this.shared.start + i);
    };
    if (this.sharedPlacement === 'first') pushShared();
    for (let i = 0; i < b.size; i++) rows.push(b.start + i);
    if (this.sharedPlacement === 'last') pushShared();
    return rows;
  }

  /** The class that owns row `row`, or `-1` for a shared row. */
  classOfRow(row: number): number {
    if (typeof row !== 'number' || !Number.isInteger(row) || row < 0 || row >= this.codebookSize) {
      throw new PiqInputError(
        `${OWNER}.classOfRow: 'row' must be an integer in [0, ${this.codebookSize}), got ${describe(row)}.`,
      );
    }
    if (row >= this.shared.start && row < this.shared.start + this.shared.size) return -1;
    for (let c = 0; c < this.numClasses; c++) {
      const b = this.blocks[c] as RowBlock;
      if (row >= b.start && row < b.start + b.size) return c;
    }
    return -1;
  }

  /**
   * The per-class table of allowed rows, padded to the largest class by repeating each class's
   * first row, for gather-based nearest-code search over blocks of unequal size.
   */
  searchTable(options: AllowedRowsOptions = {}): SearchTable {
    const lines: number[][] = [];
    for (let c = 0; c < this.numClasses; c++) lines.push(this.allowedRows(c, options));
    const width = Math.max(...lines.map((l) => l.length));
    const rows = new Int32Array(this.numClasses * width);
    lines.forEach((line, c) => {
      for (let j = 0; j < width; j++) rows[c * width + j] = line[j] ?? (line[0] as number);
    });
    return { rows, width };
  }

  private checkClass(method: string, classIndex: number): void {
    if (typeof classIndex !== 'number' || !Number.isInteger(classIndex) || classIndex < 0 || classIndex >= this.numClasses) {
      throw new PiqInputError(
        `${OWNER}.${method}: 'classIndex' must be an integer in [0, ${this.numClasses}), got ${describe(classIndex)}.`,
      );
    }
  }
}
