/**
 * Images worth a look after an import: inside one class, a file of a format that few of
 * the class's images have (a GIF placeholder among JPEG photos), or a size far from the
 * class's typical (median) size. Pure: the import job (./job.ts) passes what it imported
 * and stores the result.
 */

/** One imported item, as the outlier rules see it. */
export interface ImportedImage {
  itemId: number;
  className: string | null;
  /** Source format as users name it ('JPEG', 'GIF', …). */
  format: string;
  width: number;
  height: number;
}

/** An item worth a look and why. */
export interface Outlier {
  itemId: number;
  reason: string;
}

/** Fewest images a class needs before its images are judged against it. */
export const MIN_CLASS_IMAGES = 5;
/** A format held by at most this share of a class (and not its most common one) is flagged. */
export const RARE_FORMAT_SHARE = 0.1;
/** An area at least this many times larger or smaller than the class's median area is flagged (sides about 4× off). */
export const FAR_AREA_RATIO = 16;

function median(values: number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

/**
 * The outliers among `images`, per class (unlabelled images are not judged): rare formats
 * first, then sizes from the farthest. At most `limit` are returned.
 */
export function findOutliers(images: readonly ImportedImage[], limit: number): Outlier[] {
  const byClass = new Map<string, ImportedImage[]>();
  for (const im of images) {
    if (im.className === null) continue;
    let g = byClass.get(im.className);
    if (!g) byClass.set(im.className, (g = []));
    g.push(im);
  }
  const formats: Outlier[] = [];
  const sizes: { itemId: number; reason: string; far: number }[] = [];
  for (const [name, group] of byClass) {
    if (group.length < MIN_CLASS_IMAGES) continue;
    const count = new Map<string, number>();
    for (const im of group) count.set(im.format, (count.get(im.format) ?? 0) + 1);
    const [common, commonCount] = [...count].sort((a, b) => b[1] - a[1])[0];
    const mw = median(group.map((im) => im.width));
    const mh = median(group.map((im) => im.height));
    const ma = median(group.map((im) => im.width * im.height));
    for (const im of group) {
      const n = count.get(im.format)!;
      if (im.format !== common && n <= RARE_FORMAT_SHARE * group.length) {
        formats.push({ itemId: im.itemId, reason: `${im.format} file; ${commonCount} of the ${group.length} images of ${name} are ${common}` });
        continue;
      }
      const ratio = (im.width * im.height) / ma;
      const far = Math.max(ratio, 1 / ratio);
      if (far >= FAR_AREA_RATIO) sizes.push({ itemId: im.itemId, far, reason: `${im.width}×${im.height} px, far from the typical ${mw}×${mh} px of ${name}` });
    }
  }
  sizes.sort((a, b) => b.far - a.far);
  return [...formats, ...sizes.map(({ itemId, reason }) => ({ itemId, reason }))].slice(0, limit);
}
