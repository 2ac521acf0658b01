// The `verbose` progress printer of Trainer.fit, following tfjs-layers' convention: 0 silent,
// 1 a progress line redrawn in place (only on a terminal), 2 one line per epoch. It writes to
// Node's stderr and never in a browser. It is one more callback of the fit's CallbackList.
import type { FitCallback, FitLogs, FitParams } from './callbacks';

/** Where the printer writes: Node's stderr, or a test's stand-in. */
export interface ProgressSink {
  write(text: string): void;
  readonly isTTY: boolean;
  /** Terminal width in characters (lines are cut to fit). */
  readonly columns: number;
}

interface NodeProcessLike {
  versions?: { node?: string };
  stderr?: { write?: (text: string) => unknown; isTTY?: boolean; columns?: number };
}

/** Node's stderr, or undefined outside Node (browsers, workers): the printer then stays silent. */
export function nodeStderr(): ProgressSink | undefined {
  // Read through globalThis so bundlers neither polyfill nor resolve `process`.
  const proc = (globalThis as { process?: NodeProcessLike }).process;
  const err = proc?.stderr;
  if (typeof proc?.versions?.node !== 'string' || !err || typeof err.write !== 'function') return undefined;
  const write = err.write.bind(err);
  return {
    write: (text) => void write(text),
    get isTTY() {
      return err.isTTY === true;
    },
    get columns() {
      // A pseudo-terminal without a size reports 0 columns: use a common width then.
      return err.columns !== undefined && err.columns > 0 ? err.columns : 100;
    },
  };
}

/** The printer for `params.verbose`, or undefined when it would print nothing. */
export function createProgressLogger(params: FitParams, sink: ProgressSink | undefined): FitCallback | undefined {
  if (params.verbose === 0 || !sink) return undefined;
  if (params.verbose === 1 && !sink.isTTY) return undefined;
  return new ProgressLogger(params, sink);
}

/** `0.5123`, `12.35`, `1.2e-5`: four significant digits. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** `45s`, `2m05s`, `1h02m`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `loss 0.5 · reconstruction 0.4 …` for the logs' numbers, without the batch bookkeeping. */
function formatLogs(logs: FitLogs): string {
  return Object.entries(logs)
    .filter(([k]) => k !== 'batch' && k !== 'size')
    .map(([k, v]) => `${k} ${formatValue(v)}`)
    .join(' · ');
}

const BAR = 20;
/** Redraws at most this often (ms), besides the last batch of an epoch. */
const REDRAW_MS = 100;

class ProgressLogger implements FitCallback {
  private epoch = 0;
  private epochStart = 0;
  private lastDraw = 0;
  private batches = 0;
  private loss: FitLogs = {};
  private drawn = false;

  constructor(
    private readonly params: FitParams,
    private readonly sink: ProgressSink,
  ) {}

  onEpochBegin(epoch: number): void {
    this.epoch = epoch;
    this.epochStart = Date.now();
    this.lastDraw = 0;
    this.batches = 0;
  }

  onBatchEnd(batch: number, logs?: FitLogs): void {
    this.batches = batch + 1;
    if (logs && 'loss' in logs) {
      const { batch: _b, size: _s, ...loss } = logs;
      this.loss = loss;
    }
    if (this.params.verbose !== 1) return;
    const now = Date.now();
    if (now - this.lastDraw < REDRAW_MS && this.batches !== this.params.steps) return;
    this.lastDraw = now;
    this.draw(this.liveLine(now));
  }

  onEpochEnd(epoch: number, logs?: FitLogs): void {
    const secs = (Date.now() - this.epochStart) / 1000;
    const rate = secs > 0 ? ` · ${formatValue(this.batches / secs)} steps/s` : '';
    const line = `Epoch ${epoch + 1}/${this.params.epochs} · ${this.batches} steps · ${formatDuration(secs)}${rate} · ${formatLogs(logs ?? {})}`;
    this.draw(line);
    this.sink.write('\n');
    this.drawn = false;
  }

  onTrainEnd(): void {
    // A run cut short mid-epoch (maxSteps, abort, stopTraining) leaves a live line: end it.
    if (this.drawn) this.sink.write('\n');
    this.drawn = false;
  }

  private liveLine(now: number): string {
    const { epochs, steps } = this.params;
    const epoch = `Epoch ${this.epoch + 1}/${epochs}`;
    const secs = (now - this.epochStart) / 1000;
    const rate = secs > 0 ? this.batches / secs : 0;
    let where = `${this.batches} steps`;
    let eta = '';
    if (steps !== undefined) {
      const filled = Math.min(BAR, Math.round((this.batches / steps) * BAR));
      where = `[${'='.repeat(filled)}${filled < BAR ? '>' : ''}${'.'.repeat(Math.max(0, BAR - filled - 1))}] ${this.batches}/${steps}`;
      if (rate > 0) eta = ` · ETA ${formatDuration((steps - this.batches) / rate)}`;
    }
    const loss = formatLogs(this.loss);
    return `${epoch} ${where}${loss ? ` · ${loss}` : ''} · ${formatValue(rate)} steps/s${eta}`;
  }

  /** Rewrites the current line (cut to the terminal width) on a terminal; plain lines otherwise. */
  private draw(line: string): void {
    if (this.sink.isTTY) {
      const width = Math.max(20, this.sink.columns - 1);
      this.sink.write(`\r${line.length > width ? `${line.slice(0, width - 1)}…` : line}\x1b[K`);
      this.drawn = true;
    } else {
      this.sink.write(line);
    }
  }
}
