/** Colour descriptors (issue 11): per-channel histogram and the most frequent colours. */
import type { RawImage } from './image';

export function colorHistogram(image: RawImage, bins: number): Float32Array {
  void image;
  void bins;
  throw new Error('colorHistogram: not implemented');
}

export function dominantColors(image: RawImage, count: number, bins: number): Float32Array {
  void image;
  void count;
  void bins;
  throw new Error('dominantColors: not implemented');
}
