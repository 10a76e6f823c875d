/**
 * Class colours. A class shows its own stored colour when it has one, else the colour of
 * its index in one fixed, deterministic sequence: Tableau 10 (the 2016 "Tableau 10"
 * palette, as in Vega's `tableau10` scheme) first, then colours picked one at a time as
 * far as possible (CIE76 ΔE in CIELAB) from every colour before them, over a grid of
 * sRGB candidates of medium lightness and some chroma (greys are for "unlabeled").
 * `nextClassColor` gives a new class the first colour of that sequence that no class uses
 * yet, so new classes never repeat a colour in use while unused ones remain.
 */

const TABLEAU10 = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];

/** Colours closer than this (CIE76 ΔE) count as the same colour for `nextClassColor`. */
const SAME_COLOR_DE = 10;

type Lab = [number, number, number];

function parseHex(hex: string): [number, number, number] | null {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) return null;
  const v = parseInt(m[1], 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

function toHex(r: number, g: number, b: number): string {
  return `#${[r, g, b].map((x) => x.toString(16).padStart(2, '0')).join('')}`;
}

/** sRGB 0–255 → linear-light 0–1 (IEC 61966-2-1). */
function linear(c: number): number {
  const s = c / 255;
  return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
}

/** sRGB → CIELAB (D65 white), the space ΔE is measured in. */
function rgbToLab(r: number, g: number, b: number): Lab {
  const [R, G, B] = [linear(r), linear(g), linear(b)];
  const x = (0.4124 * R + 0.3576 * G + 0.1805 * B) / 0.95047;
  const y = 0.2126 * R + 0.7152 * G + 0.0722 * B;
  const z = (0.0193 * R + 0.1192 * G + 0.9505 * B) / 1.08883;
  const f = (t: number): number => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  const [fx, fy, fz] = [f(x), f(y), f(z)];
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

function labOf(hex: string): Lab | null {
  const rgb = parseHex(hex);
  return rgb ? rgbToLab(...rgb) : null;
}

/** CIE76 colour difference ΔE between two hex colours (Infinity when one does not parse). */
export function colorDistance(a: string, b: string): number {
  const la = labOf(a);
  const lb = labOf(b);
  if (!la || !lb) return Infinity;
  return Math.hypot(la[0] - lb[0], la[1] - lb[1], la[2] - lb[2]);
}

/** The sequence so far, grown on demand by farthest-point picks over `candidates`. */
const sequence: string[] = [...TABLEAU10];
let candidates: { hex: string; lab: Lab }[] | null = null;
let minDist: Float64Array | null = null;

function grow(): boolean {
  if (!candidates || !minDist) {
    candidates = [];
    for (let r = 0; r < 256; r += 17)
      for (let g = 0; g < 256; g += 17)
        for (let b = 0; b < 256; b += 17) {
          const lab = rgbToLab(r, g, b);
          if (lab[0] >= 30 && lab[0] <= 75 && Math.hypot(lab[1], lab[2]) >= 25) candidates.push({ hex: toHex(r, g, b), lab });
        }
    minDist = new Float64Array(candidates.length).fill(Infinity);
    for (const hex of sequence) update(labOf(hex)!);
  }
  let best = -1;
  for (let i = 0; i < minDist.length; i++) if (minDist[i] > 0 && (best < 0 || minDist[i] > minDist[best])) best = i;
  if (best < 0) return false;
  sequence.push(candidates[best].hex);
  update(candidates[best].lab);
  return true;
}

function update(lab: Lab): void {
  for (let i = 0; i < candidates!.length; i++) {
    const c = candidates![i].lab;
    const d = Math.hypot(c[0] - lab[0], c[1] - lab[1], c[2] - lab[2]);
    if (d < minDist![i]) minDist![i] = d;
  }
}

/**
 * The `index`-th colour of the class colour sequence (0-based, deterministic). After the
 * last grid candidate (about a thousand colours) the sequence repeats from the start.
 */
export function paletteColor(index: number): string {
  const i = Math.max(0, Math.floor(index));
  while (sequence.length <= i && grow());
  return sequence[i % sequence.length];
}

/** The colour a class shows: its stored colour when set, else the sequence colour of its index. */
export function classColor(index: number, color?: string | null): string {
  if (color) return color;
  return paletteColor(index);
}

/**
 * A colour for a new class: the first colour of the sequence not within ΔE 10 of any
 * colour in `used` (the colours the dataset's classes show now); when every colour of the
 * sequence is taken, the first one no class has exactly.
 */
export function nextClassColor(used: readonly string[]): string {
  const labs = used.map(labOf).filter((l): l is Lab => l !== null);
  const exact = new Set(used.map((u) => u.toLowerCase()));
  for (let i = 0; ; i++) {
    if (i >= sequence.length && !grow()) break;
    const lab = labOf(sequence[i])!;
    if (labs.every((u) => Math.hypot(u[0] - lab[0], u[1] - lab[1], u[2] - lab[2]) >= SAME_COLOR_DE)) return sequence[i];
  }
  return sequence.find((c) => !exact.has(c)) ?? sequence[used.length % sequence.length];
}

/** Dark or white text, whichever has the higher WCAG 2 contrast on background `bg`. */
export function textColorOn(bg: string): string {
  const rgb = parseHex(bg);
  if (!rgb) return '#fff';
  const luminance = (c: [number, number, number]): number => 0.2126 * linear(c[0]) + 0.7152 * linear(c[1]) + 0.0722 * linear(c[2]);
  const lum = luminance(rgb);
  const dark = luminance([0x1d, 0x24, 0x30]);
  return 1.05 / (lum + 0.05) >= (lum + 0.05) / (dark + 0.05) ? '#fff' : '#1d2430';
}

export const SPLIT_COLORS = { train: '#3b6fd4', val: '#e08a1e', test: '#3a9a5b' } as const;
