// Times spectrogram() with method 'fft' vs 'dft-matmul' on the cpu and wasm backends, for a
// 1 s 8 kHz clip and a batch of 16 such clips, with the ESC-50 frame settings and a smaller FFT.
// Run (a few seconds):
//   npx esbuild bench/audio-stft.ts --bundle --platform=node --format=esm --packages=external \
//     --outfile=node_modules/.cache/piq-bench/audio-stft.mjs && node node_modules/.cache/piq-bench/audio-stft.mjs
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { spectrogram, type SpectrogramMethod, type SpectrogramOptions } from '../src/audio';

const SR = 8000;
const settings: [string, SpectrogramOptions][] = [
  ['nFFT 1024 / win 372 / hop 186 (ESC-50 frames)', { nFFT: 1024, winLength: 372, hop: 186, padMode: 'constant' }],
  ['nFFT 256 / win 256 / hop 64', { nFFT: 256, winLength: 256, hop: 64 }],
];

function clip(batch: number): tf.Tensor2D {
  const data = new Float32Array(batch * SR);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * 0.5 + Math.sin(i * 0.011) * 0.3;
  return tf.tensor2d(data, [batch, SR]);
}

function timeIt(fn: () => void, reps: number): number {
  fn();
  fn(); // warm-up (kernel set-up, basis creation)
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

async function main(): Promise<void> {
  const rows: string[] = ['| backend | settings | batch | fft (ms) | dft-matmul (ms) |', '|---|---|---|---|---|'];
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    await tf.ready();
    for (const [label, opts] of settings) {
      for (const batch of [1, 16]) {
        const x = clip(batch);
        const ms: Record<SpectrogramMethod, number> = { fft: 0, 'dft-matmul': 0 };
        for (const method of ['fft', 'dft-matmul'] as const) {
          ms[method] = timeIt(() => {
            const r = spectrogram(x, { ...opts, method });
            r.magnitude.dataSync(); // force completion
            tf.dispose([r.magnitude, r.phase]);
          }, batch === 16 && backend === 'cpu' ? 3 : 7);
        }
        x.dispose();
        rows.push(`| ${backend} | ${label} | ${batch} | ${ms.fft.toFixed(1)} | ${ms['dft-matmul'].toFixed(1)} |`);
      }
    }
  }
  console.log(rows.join('\n'));
  console.log(`tensors left: ${tf.memory().numTensors}`);
}

void main();
