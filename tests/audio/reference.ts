// Plain-JS reference STFT for the audio tests, written independently of src/audio from the
// torch.stft definition: periodic window zero-padded and centred in an nFFT frame, optional
// centre padding by floor(nFFT/2) (reflect or zeros), X[t, k] = Σ_n frame_t[n]·w[n]·e^{−2πikn/N}.

export type RefWindow = 'hamming' | 'hann' | 'rectangular';

export interface RefStftSettings {
  nFFT: number;
  winLength: number;
  hop: number;
  window: RefWindow;
  center: boolean;
  padMode: 'reflect' | 'constant';
}

export function refWindow(type: RefWindow, length: number): number[] {
  const w: number[] = [];
  for (let n = 0; n < length; n++) {
    if (type === 'rectangular') w.push(1);
    else if (type === 'hann') w.push(0.5 - 0.5 * Math.cos((2 * Math.PI * n) / length));
    else w.push(0.54 - 0.46 * Math.cos((2 * Math.PI * n) / length));
  }
  return w;
}

/** Returns re/im as [frames][bins] arrays. */
export function refStft(x: ArrayLike<number>, s: RefStftSettings): { re: number[][]; im: number[][] } {
  const sig = Array.from(x);
  let padded = sig;
  if (s.center) {
    const p = Math.floor(s.nFFT / 2);
    const left: number[] = [];
    const right: number[] = [];
    for (let i = p; i >= 1; i--) left.push(s.padMode === 'reflect' ? (sig[i] as number) : 0);
    for (let i = 1; i <= p; i++) right.push(s.padMode === 'reflect' ? (sig[sig.length - 1 - i] as number) : 0);
    padded = [...left, ...sig, ...right];
  }
  const win = new Array<number>(s.nFFT).fill(0);
  const w = refWindow(s.window, s.winLength);
  const left = Math.floor((s.nFFT - s.winLength) / 2);
  for (let i = 0; i < s.winLength; i++) win[left + i] = w[i] as number;
  const frames = 1 + Math.floor((padded.length - s.nFFT) / s.hop);
  const bins = Math.floor(s.nFFT / 2) + 1;
  const re: number[][] = [];
  const im: number[][] = [];
  for (let t = 0; t < frames; t++) {
    const r: number[] = [];
    const q: number[] = [];
    for (let k = 0; k < bins; k++) {
      let a = 0;
      let b = 0;
      for (let n = 0; n < s.nFFT; n++) {
        const v = (padded[t * s.hop + n] as number) * (win[n] as number);
        a += v * Math.cos((2 * Math.PI * k * n) / s.nFFT);
        b -= v * Math.sin((2 * Math.PI * k * n) / s.nFFT);
      }
      r.push(a);
      q.push(b);
    }
    re.push(r);
    im.push(q);
  }
  return { re, im };
}

/** Deterministic uniform(−1, 1) samples (mulberry32). */
export function randomSignal(length: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** Smallest absolute difference between two angles, in [0, π]. */
export function angleDiff(a: number, b: number): number {
  const d = Math.abs(a - b) % (2 * Math.PI);
  return Math.min(d, 2 * Math.PI - d);
}
