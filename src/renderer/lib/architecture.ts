/**
 * What the architecture view writes in and around a node's box: a short description of its
 * layer's key config ("3×3 conv, 32, /2"), the kind it is coloured by, and compact numbers.
 * Pure helpers for ArchitectureView.vue / ArchitectureEditor.vue.
 */
import type { LayerSpec, LayerType } from '../../shared/spec';
import { paletteColor } from './palette';

/** The kinds boxes are coloured by, in legend order. */
export const NODE_KINDS = ['input', 'conv', 'depthwise', 'pool', 'dense', 'norm', 'activation', 'dropout', 'merge', 'reshape'] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

const KIND_OF: Record<LayerType, NodeKind> = {
  conv2d: 'conv',
  depthwiseConv2d: 'depthwise',
  maxPooling2d: 'pool',
  averagePooling2d: 'pool',
  globalAveragePooling2d: 'pool',
  globalMaxPooling2d: 'pool',
  zeroPadding2d: 'reshape',
  flatten: 'reshape',
  dense: 'dense',
  batchNormalization: 'norm',
  activation: 'activation',
  dropout: 'dropout',
  add: 'merge',
  concatenate: 'merge',
};

/** The kind a layer type is drawn as. */
export function kindOf(type: LayerType | 'input'): NodeKind {
  return type === 'input' ? 'input' : KIND_OF[type];
}

/** Legend words of each kind. */
export const KIND_LABELS: Readonly<Record<NodeKind, string>> = {
  input: 'input',
  conv: 'convolution',
  depthwise: 'depthwise conv',
  pool: 'pooling',
  dense: 'dense',
  norm: 'batch norm',
  activation: 'activation',
  dropout: 'dropout',
  merge: 'add / concatenate',
  reshape: 'flatten / padding',
};

/** Palette index (Tableau 10 order, palette.ts) of each kind. */
const KIND_COLOR_INDEX: Readonly<Record<Exclude<NodeKind, 'input'>, number>> = { conv: 0, pool: 1, merge: 2, depthwise: 3, reshape: 4, activation: 5, dense: 6, dropout: 7, norm: 9 };

/** The colour of a kind: the palette's Tableau 10 colours, grey for the input. */
export function kindColor(kind: NodeKind): string {
  return kind === 'input' ? '#8a94a6' : paletteColor(KIND_COLOR_INDEX[kind]);
}

const stride = (s: number | undefined): string => (s && s > 1 ? `, /${s}` : '');
const act = (a: string): string => (a === 'linear' ? '' : `, ${a}`);

/**
 * One line for a layer's key config: "3×3 conv, 32, /2, relu", "2×2 max pool", "dense 120, relu",
 * "dropout 0.5", "add (2)". Strides > 1 are written "/s".
 */
export function layerSummary(layer: LayerSpec, inputCount = 1): string {
  switch (layer.type) {
    case 'conv2d':
      return `${layer.kernelSize}×${layer.kernelSize} conv, ${layer.filters}${stride(layer.strides)}${act(layer.activation)}`;
    case 'depthwiseConv2d':
      return `${layer.kernelSize}×${layer.kernelSize} depthwise${layer.depthMultiplier > 1 ? ` ×${layer.depthMultiplier}` : ''}${stride(layer.strides)}${act(layer.activation)}`;
    case 'maxPooling2d':
    case 'averagePooling2d':
      return `${layer.poolSize}×${layer.poolSize} ${layer.type === 'maxPooling2d' ? 'max' : 'avg'} pool${stride(layer.strides ?? layer.poolSize)}`;
    case 'globalAveragePooling2d':
      return 'global avg pool';
    case 'globalMaxPooling2d':
      return 'global max pool';
    case 'zeroPadding2d':
      return `zero padding ${JSON.stringify(layer.padding)}`;
    case 'dense':
      return `dense ${layer.units}${act(layer.activation)}`;
    case 'flatten':
      return 'flatten';
    case 'dropout':
      return `dropout ${layer.rate}`;
    case 'batchNormalization':
      return 'batch norm';
    case 'activation':
      return layer.activation === 'leakyRelu' ? `leakyRelu α ${layer.alpha ?? 0.3}` : layer.activation;
    case 'add':
      return `add (${inputCount})`;
    case 'concatenate':
      return `concatenate (${inputCount})`;
  }
}

/** 272474 → "272 k", 40_800_000 → "40.8 M", 950 → "950". */
export function compactNumber(v: number): string {
  if (v < 1000) return String(v);
  if (v < 1e6) return `${v < 1e4 ? (v / 1e3).toFixed(1) : Math.round(v / 1e3)} k`;
  if (v < 1e9) return `${v < 1e7 ? (v / 1e6).toFixed(2) : (v / 1e6).toFixed(1)} M`;
  return `${(v / 1e9).toFixed(2)} G`;
}

/** A shape without the batch axis: [32, 32, 16] → "32×32×16". */
export function shapeText(shape: readonly number[]): string {
  return shape.join('×');
}

/** The node index a SpecError's field points at ("model.nodes[12].layer.filters" → 12), or null. */
export function nodeIndexOfField(field: string | undefined | null): number | null {
  const m = /^model\.(?:nodes|layers)\[(\d+)\]/.exec(field ?? '');
  return m ? Number(m[1]) : null;
}
