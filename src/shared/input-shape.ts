/**
 * The input shape a run gets by default for a dataset (New-run form and CLI): the dataset's
 * typical image shape (DatasetSummary.typicalShape: the median height and width over all
 * its images, 1 channel only when every image is grey, R = G = B) with each side at most
 * 64 px (at least 4), so a folder of large or mixed-size photos does not make a model of
 * hundreds of millions of parameters.
 */
export const MAX_DEFAULT_SIDE = 64;

/** [height, width, channels] from a typical image shape [median h, median w, c] (null: 32×32×3); channels 1 (all grey) stays 1, else 3. */
export function defaultInputShape(typicalShape: readonly [number, number, number] | null): [number, number, 1 | 3] {
  const [h, w, c] = typicalShape ?? [32, 32, 3];
  const clamp = (n: number): number => Math.max(4, Math.min(MAX_DEFAULT_SIDE, Math.round(n)));
  return [clamp(h), clamp(w), c === 1 ? 1 : 3];
}
