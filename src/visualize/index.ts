/**
 * Pictures of explanations as plain pixels: colormaps, heatmaps, overlays, spectrogram images,
 * grids, PNG encoding and canvas helpers. Published as the subpath `piq-tfjs/visualize`. It works
 * on typed arrays (read tensors with `await tensor.data()`), has no tfjs or DOM dependency at run
 * time, and runs unchanged in Node and in browsers.
 *
 * @packageDocumentation
 */
export { COLORMAP_NAMES, colormap } from './colormap';
export type { Colormap, ColormapName } from './colormap';
export { heatmap } from './heatmap';
export type { HeatmapConfig, HeatmapOptions } from './heatmap';
export { toRgba } from './to-rgba';
export type { ToRgbaConfig, ToRgbaOptions } from './to-rgba';
export { maskOverlay, overlay } from './overlay';
export type { MaskOverlayConfig, MaskOverlayOptions, OverlayConfig, OverlayOptions } from './overlay';
export { SPECTROGRAM_SCALES, spectrogramImage } from './spectrogram-image';
export type { SpectrogramImageConfig, SpectrogramImageOptions, SpectrogramScale } from './spectrogram-image';
export { resizeNearest } from './resize-nearest';
export { grid } from './grid';
export type { GridConfig, GridOptions } from './grid';
export { encodePng } from './png';
export { drawToCanvas, toImageData } from './browser';
export type { DrawToCanvasConfig, DrawToCanvasOptions } from './browser';
export type {
  Canvas2DContextLike,
  CanvasLike,
  ImageDataLike,
  NumericArray,
  RgbaColor,
  RgbaImage,
  RgbColor,
} from './types';
export { PiqConfigError, PiqError, PiqInputError, PiqStateError } from '../errors';
