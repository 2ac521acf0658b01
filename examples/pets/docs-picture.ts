// Builds the compact picture of the docs (docs/images/pets-methods.png) from a full run's
// `<id>-methods.png`: one photo per breed (rows 0, 2, 4) and the columns photo | PIQ concept | PIQ mask |
// Grad-CAM | Occlusion | trimap. Pixels are copied unchanged (no new computation).
//   npx tsx --tsconfig tsconfig.test.json examples/pets/docs-picture.ts examples/pets/results/b-methods.png docs/images/pets-methods.png
import { readFileSync, writeFileSync } from 'node:fs';
import { decode, encode } from 'fast-png';

/** Cell size and padding of the grids report.ts writes (64 px photos at scale 2, padding 4 around every cell). */
const CELL = 128;
const PAD = 4;
/** Columns of `<id>-methods.png` with PIQ concept mode present: photo, piq-concept, piq-mask, saliency, smoothGrad, IG, gradCam, occlusion, trimap. */
const KEEP_COLUMNS = [0, 1, 2, 6, 7, 8];
const KEEP_ROWS = [0, 2, 4];

const [input, output] = process.argv.slice(2);
if (!input || !output) throw new Error('usage: docs-picture.ts <methods.png> <out.png>');
const png = decode(readFileSync(input));
const ch = png.channels;
const columns = (png.width - PAD) / (CELL + PAD);
if (columns !== 9) throw new Error(`docs-picture: '${input}' must have 9 columns (a run with concept mode), got ${columns}.`);
const width = KEEP_COLUMNS.length * (CELL + PAD) + PAD;
const height = KEEP_ROWS.length * (CELL + PAD) + PAD;
const out = new Uint8Array(width * height * ch).fill(255);
KEEP_ROWS.forEach((r, ro) => {
  KEEP_COLUMNS.forEach((c, co) => {
    for (let y = 0; y < CELL; y++) {
      const sy = PAD + r * (CELL + PAD) + y;
      const dy = PAD + ro * (CELL + PAD) + y;
      const s = (sy * png.width + PAD + c * (CELL + PAD)) * ch;
      const d = (dy * width + PAD + co * (CELL + PAD)) * ch;
      out.set(png.data.subarray(s, s + CELL * ch), d);
    }
  });
});
writeFileSync(output, encode({ width, height, data: out, channels: ch, depth: 8 }));
console.log(`${output}: ${width}x${height}`);
