// Real-input DFT helpers shared by the forward and inverse STFT. Pure JS (no tfjs, no Node
// built-ins) so they run wherever the library is bundled. Arithmetic is in float64.
import FFT from 'fft.js';

/**
 * Window shapes supported by the STFT (periodic windows, as torch's `hamming_window`/`hann_window`).
 * @category Audio
 */
export type SpectrogramWindow = 'hamming' | 'hann' | 'rectangular';

/**
 * Periodic window of `length` samples, the torch default (`torch.hamming_window(N)` has
 * `periodic=True`): w[n] = a − (1 − a)·cos(2πn/N), a = 0.54 (Hamming) or 0.5 (Hann).
 */
export function makeWindow(type: SpectrogramWindow, length: number): Float64Array {
  const w = new Float64Array(length);
  if (type === 'rectangular') return w.fill(1);
  const a = type === 'hamming' ? 0.54 : 0.5;
  for (let n = 0; n < length; n++) w[n] = a - (1 - a) * Math.cos((2 * Math.PI * n) / length);
  return w;
}

/** Offset of a `winLength` window centred in an `nFFT` frame, as torch.stft pads it. */
export function windowOffset(nFFT: number, winLength: number): number {
  return Math.floor((nFFT - winLength) / 2);
}

export function isPowerOfTwo(n: number): boolean {
  return n >= 2 && (n & (n - 1)) === 0;
}

/**
 * Cosine table c[j] = cos(2πj/N), s[j] = sin(2πj/N) for j < N; the DFT term for bin k and
 * sample n uses index (k·n) mod N, which keeps the argument small and the result exact to
 * float64 rounding.
 */
function trigTables(n: number): { cos: Float64Array; sin: Float64Array } {
  const cos = new Float64Array(n);
  const sin = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    cos[j] = Math.cos((2 * Math.PI * j) / n);
    sin[j] = Math.sin((2 * Math.PI * j) / n);
  }
  return { cos, sin };
}

/**
 * One-sided real DFT of length nFFT over a frame whose non-zero samples lie in
 * [offset, offset + span): X[k] = Σ x[n]·e^{−2πikn/N}, k = 0..N/2.
 * Uses fft.js (radix-4) for power-of-two N, a direct O(N·bins) sum otherwise.
 */
export class RealDft {
  readonly bins: number;
  private readonly fft: FFT | undefined;
  private readonly output: number[] | undefined;
  private readonly tables: { cos: Float64Array; sin: Float64Array } | undefined;

  constructor(readonly nFFT: number) {
    this.bins = Math.floor(nFFT / 2) + 1;
    if (isPowerOfTwo(nFFT)) {
      this.fft = new FFT(nFFT);
      this.output = this.fft.createComplexArray() as number[];
    } else {
      this.tables = trigTables(nFFT);
    }
  }

  /**
   * Forward transform of `frame` (length nFFT, zero outside [offset, offset+span)).
   * Writes re/im of bins 0..N/2 into `re`, `im`.
   */
  forward(frame: Float64Array, offset: number, span: number, re: Float64Array, im: Float64Array): void {
    const { nFFT, bins } = this;
    if (this.fft && this.output) {
      this.fft.realTransform(this.output, frame);
      const out = this.output;
      for (let k = 0; k < bins; k++) {
        re[k] = out[2 * k] as number;
        im[k] = out[2 * k + 1] as number;
      }
      return;
    }
    const { cos, sin } = this.tables as { cos: Float64Array; sin: Float64Array };
    for (let k = 0; k < bins; k++) {
      let sr = 0;
      let si = 0;
      for (let n = offset; n < offset + span; n++) {
        const j = (k * n) % nFFT;
        const v = frame[n] as number;
        sr += v * (cos[j] as number);
        si -= v * (sin[j] as number);
      }
      re[k] = sr;
      im[k] = si;
    }
  }

  /**
   * Inverse of the one-sided spectrum (like `torch.fft.irfft`: the imaginary parts of the DC
   * and Nyquist bins are ignored). Writes samples [offset, offset+span) of the length-nFFT
   * frame into `out` (indices outside are left untouched).
   */
  inverse(re: Float64Array, im: Float64Array, offset: number, span: number, out: Float64Array): void {
    const { nFFT, bins } = this;
    const even = nFFT % 2 === 0;
    if (this.fft && this.output) {
      // Build the full Hermitian spectrum and run fft.js's inverse (which scales by 1/N).
      const full = this.output;
      for (let k = 0; k < bins; k++) {
        full[2 * k] = re[k] as number;
        full[2 * k + 1] = k === 0 || (even && k === bins - 1) ? 0 : (im[k] as number);
      }
      for (let k = bins; k < nFFT; k++) {
        full[2 * k] = re[nFFT - k] as number;
        full[2 * k + 1] = -(im[nFFT - k] as number);
      }
      const time = this.fft.createComplexArray() as number[];
      this.fft.inverseTransform(time, full);
      for (let n = offset; n < offset + span; n++) out[n] = time[2 * n] as number;
      return;
    }
    const { cos, sin } = this.tables as { cos: Float64Array; sin: Float64Array };
    const last = even ? bins - 1 : bins; // bins strictly between DC and Nyquist count twice
    for (let n = offset; n < offset + span; n++) {
      let s = re[0] as number;
      if (even) s += (n % 2 === 0 ? 1 : -1) * (re[bins - 1] as number);
      for (let k = 1; k < last; k++) {
        const j = (k * n) % nFFT;
        s += 2 * ((re[k] as number) * (cos[j] as number) - (im[k] as number) * (sin[j] as number));
      }
      out[n] = s / nFFT;
    }
  }
}

/**
 * DFT basis for the matMul route, with the window folded in: a [winLength, 2·bins] row-major
 * matrix whose first `bins` columns are w[m]·cos(2πk(m+off)/N) and the next `bins` columns
 * −w[m]·sin(2πk(m+off)/N). Frames of winLength samples times this basis give [re | im].
 * Built already in [in, out] layout so no matMul transpose flag is needed (slow on wasm).
 */
export function windowedDftBasis(nFFT: number, winLength: number, window: SpectrogramWindow): Float32Array {
  const bins = Math.floor(nFFT / 2) + 1;
  const off = windowOffset(nFFT, winLength);
  const w = makeWindow(window, winLength);
  const { cos, sin } = trigTables(nFFT);
  const basis = new Float32Array(winLength * 2 * bins);
  for (let m = 0; m < winLength; m++) {
    const n = m + off;
    const wm = w[m] as number;
    const row = m * 2 * bins;
    for (let k = 0; k < bins; k++) {
      const j = (k * n) % nFFT;
      basis[row + k] = wm * (cos[j] as number);
      basis[row + bins + k] = -wm * (sin[j] as number);
    }
  }
  return basis;
}
