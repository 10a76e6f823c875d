/** Class colours: the dataset's own colour when set, else a fixed categorical palette by index. */
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173', '#3182bd', '#e6550d', '#31a354', '#756bb1', '#636363'];

export function classColor(index: number, color?: string | null): string {
  if (color) return color;
  return PALETTE[((index % PALETTE.length) + PALETTE.length) % PALETTE.length];
}

export const SPLIT_COLORS = { train: '#3b6fd4', val: '#e08a1e', test: '#3a9a5b' } as const;
