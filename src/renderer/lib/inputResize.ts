/**
 * What the pack builder (`loadPixels` in src/main/services/pack.ts: sharp `fit: 'cover'`,
 * `position: 'centre'`) does to a dataset's images for a chosen input shape, in words for
 * the run form: scale keeping the aspect ratio until the image covers height × width, then
 * crop the centre; convert to 1 (greyscale) or 3 (sRGB) channels.
 */

/** Pixels lost on one axis by the centre crop, as "12 columns (19 %)". */
function lost(n: number, of: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'} (${Math.round((100 * n) / of)} %)`;
}

/**
 * The note shown under the input size: how every image becomes `input` = [height, width,
 * channels], and what happens to a typical image of the dataset (`typical` = [h, w, c]
 * pixels, null when unknown). '' when the input size is not a positive number yet.
 */
export function resizeNote(typical: readonly [number, number, number] | null | undefined, input: readonly [unknown, unknown, unknown]): string {
  const [H, W, C] = input.map(Number);
  if (!(H > 0 && W > 0) || !Number.isInteger(H) || !Number.isInteger(W)) return '';
  const parts = [`Every image is scaled, keeping its aspect ratio, until it covers ${H}×${W}, then centre-cropped to ${H}×${W}${C === 1 ? ' and converted to greyscale' : C === 3 ? ' in RGB' : ''}.`];
  if (typical) {
    const [h, w, c] = typical;
    if (h === H && w === W) {
      parts.push(`Images of the typical size ${h}×${w} are used as they are.`);
    } else {
      const s = Math.max(H / h, W / w);
      const sh = Math.max(H, Math.round(h * s));
      const sw = Math.max(W, Math.round(w * s));
      const how = s < 1 ? 'scaled down' : 'scaled up';
      const crop = sh > H ? `, losing ${lost(sh - H, sh, 'row')} at top and bottom` : sw > W ? `, losing ${lost(sw - W, sw, 'column')} at the sides` : '';
      parts.push(`A typical ${h}×${w} image is ${how} to ${sh}×${sw}${crop}.`);
    }
    if (c >= 3 && C === 1) parts.push('Its colours become grey levels.');
    if (c === 1 && C === 3) parts.push('Its grey level is copied into all three channels.');
  }
  return parts.join(' ');
}
