/**
 * The lecture's deep networks as graph presets: AlexNet, VGG-11/16, an Inception (GoogLeNet)
 * network, ResNet-20/32/56 for CIFAR and MobileNet v1, each scaled to the dataset's input
 * size and class count and built node by node with GraphBuilder. Node names are stable and
 * read like the papers' (`conv1`, `block3_conv2`, `inception3a_3x3_reduce`,
 * `stage2_block1_add`, `dw_conv3`, `pw_conv3`): Grad-CAM, freezing and comparison refer to
 * them. The last node is always `logits` (linear; softmax lives in the loss).
 *
 * One rule fits every preset to small inputs: a downsampling step (a pool, or a conv with
 * stride 2) whose output would be smaller than 2×2 is skipped (pools) or taken with stride 1
 * (convs), so the network's last feature map keeps at least 2×2 when the input allows it.
 * Kernels of the convs and hidden dense layers (all followed by ReLU or ReLU6) are drawn heNormal
 * (He et al. 2015, "Delving deep into rectifiers", §2.2, which trains VGG-style nets of 22 and 30
 * layers from scratch with it); the logits layer keeps glorotUniform (linear output), except in the
 * ResNets (heNormal throughout, as their §3.4).
 */
import { SpecError } from './errors';
import { convOutputSize } from './graph';
import { GraphBuilder, type PresetOptions } from './graph-builder';
import { BN_MOMENTUM, type ActivationSchema, type Initializer, type LayerSpecInput, type ModelSpec } from './layers';
import type { z } from 'zod';

export const DEEP_PRESETS = ['alexnet', 'vgg11', 'vgg16', 'inception', 'resnet20', 'resnet32', 'resnet56', 'mobilenet'] as const;
export type DeepPresetName = (typeof DEEP_PRESETS)[number];

type Activation = z.infer<typeof ActivationSchema>;
type Padding = 'same' | 'valid';

interface ConvOptions {
  strides?: number;
  padding?: Padding;
  /** Activation after the conv (after its batch norm when there is one); default relu. */
  activation?: Activation;
  /** conv (linear, no bias) → `<name>_bn` → `<name>_relu` instead of one conv with its activation. */
  bn?: boolean;
  init?: Initializer;
  inputs?: string[];
  /** False for a side branch (a projection shortcut): the tracked feature-map size stays. */
  track?: boolean;
}

/** A graph being built plus the height and width of the main path's feature map. */
class Net {
  readonly g = new GraphBuilder();
  hw: [number, number];
  constructor(readonly opts: PresetOptions) {
    this.hw = [opts.inputShape[0], opts.inputShape[1]];
  }
  get last(): string {
    return this.g.last;
  }
  add(name: string, layer: LayerSpecInput, inputs?: string[]): string {
    return this.g.add(layer, { name, inputs });
  }
  /** Height and width after a k×k step with stride s. */
  after(k: number, s: number, padding: Padding): [number, number] {
    return [convOutputSize(this.hw[0], k, s, padding), convOutputSize(this.hw[1], k, s, padding)];
  }
  /** True when a k×k step with stride s leaves at least 2×2 (the small-input rule at the top of this file). */
  fits(k: number, s: number, padding: Padding): boolean {
    return this.after(k, s, padding).every((d) => d >= 2);
  }
  /** Stride `s` when the step fits, else 1. */
  stride(k: number, s: number, padding: Padding): number {
    return s > 1 && !this.fits(k, s, padding) ? 1 : s;
  }
  /** A conv2d (with batch norm and its activation when `bn`); returns the last node's name. */
  conv(name: string, filters: number, k: number, o: ConvOptions = {}): string {
    const { strides = 1, padding = 'same', activation = 'relu', bn = false, init = 'heNormal', track = true } = o;
    const layer: LayerSpecInput = { type: 'conv2d', filters, kernelSize: k, strides, padding, activation: bn ? 'linear' : activation, useBias: !bn, kernelInitializer: init };
    this.add(name, layer, o.inputs);
    if (track) this.hw = this.after(k, strides, padding);
    if (!bn) return name;
    this.add(`${name}_bn`, { type: 'batchNormalization', momentum: BN_MOMENTUM, epsilon: 1e-3 });
    return activation === 'linear' ? this.last : this.add(`${name}_relu`, { type: 'activation', activation });
  }
  /** A max pool, or nothing when its output would be under 2×2. */
  maxPool(name: string, k: number, s: number, padding: Padding = 'valid', inputs?: string[]): string {
    if (!this.fits(k, s, padding)) return this.last;
    this.add(name, { type: 'maxPooling2d', poolSize: k, strides: s, padding }, inputs);
    this.hw = this.after(k, s, padding);
    return name;
  }
  /** A dropout node, or nothing for rate 0. */
  dropout(name: string, rate: number): void {
    if (rate > 0) this.add(name, { type: 'dropout', rate });
  }
  logits(init: Initializer = 'glorotUniform'): void {
    this.add('logits', { type: 'dense', units: this.opts.numClasses, activation: 'linear', useBias: true, kernelInitializer: init });
  }
}

/** The width multiplier α; `fallback` when not given. @throws SpecError unless 0 < α ≤ 4. */
function alphaOf(opts: PresetOptions, fallback: number): number {
  const a = opts.widthMultiplier ?? fallback;
  if (!(a > 0 && a <= 4)) throw new SpecError(`widthMultiplier: expected a number in (0, 4], got ${a}`, 'widthMultiplier');
  return a;
}
const scaled = (filters: number, alpha: number): number => Math.max(1, Math.round(filters * alpha));

/**
 * AlexNet-style (Krizhevsky, Sutskever & Hinton 2012, "ImageNet classification with deep
 * convolutional neural networks", §3.5 and Fig. 2): conv1 96 11×11/4 → max pool 3×3/2
 * (overlapping, §3.4) → conv2 256 5×5 → pool → conv3 384, conv4 384, conv5 256 (3×3) → pool
 * → fc6 4096, fc7 4096 with dropout before each (§4.2, rate `dropoutRate`, default 0.5) →
 * logits. One tower (the paper splits it over two GPUs), no local response normalisation
 * (`batchNormalization` puts a batch norm after each conv instead).
 * Scaled: the first conv is the paper's 11×11/4 (valid) when the shorter input side is ≥ 128 px,
 * 5×5/2 (valid) from 64 px, 3×3/1 (same) below; widths × `widthMultiplier` (default 1/4:
 * 24-64-96-96-64 convs, 1024-unit dense layers), pools skipped by the small-input rule.
 */
function alexnet(opts: PresetOptions): ModelSpec {
  const a = alphaOf(opts, 0.25);
  const bn = opts.batchNormalization ?? false;
  const n = new Net(opts);
  const side = Math.min(opts.inputShape[0], opts.inputShape[1]);
  const [k1, s1, p1]: [number, number, Padding] = side >= 128 ? [11, 4, 'valid'] : side >= 64 ? [5, 2, 'valid'] : [3, 1, 'same'];
  n.conv('conv1', scaled(96, a), k1, { strides: s1, padding: p1, bn });
  n.maxPool('pool1', 3, 2);
  n.conv('conv2', scaled(256, a), 5, { bn });
  n.maxPool('pool2', 3, 2);
  n.conv('conv3', scaled(384, a), 3, { bn });
  n.conv('conv4', scaled(384, a), 3, { bn });
  n.conv('conv5', scaled(256, a), 3, { bn });
  n.maxPool('pool5', 3, 2);
  n.add('flatten', { type: 'flatten' });
  const rate = opts.dropoutRate ?? 0.5;
  for (const fc of ['fc6', 'fc7']) {
    n.dropout(`${fc}_dropout`, rate);
    n.add(fc, { type: 'dense', units: scaled(4096, a), activation: 'relu', kernelInitializer: 'heNormal' });
  }
  n.logits();
  return n.g.spec('alexnet', opts);
}

/** VGG configurations A (11 weight layers) and D (16), Simonyan & Zisserman 2014, Table 1: filters per block, each block ends in a 2×2 max pool. */
const VGG_BLOCKS: Record<'vgg11' | 'vgg16', number[][]> = {
  vgg11: [[64], [128], [256, 256], [512, 512], [512, 512]],
  vgg16: [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
};

/**
 * VGG-style (Simonyan & Zisserman 2014, "Very deep convolutional networks for large-scale image
 * recognition", §2.1 and Table 1, configurations A = VGG-11 and D = VGG-16): five blocks of
 * 3×3 same convs (`blockB_convC`) each followed by a 2×2/2 max pool (`blockB_pool`), then fc1,
 * fc2 (4096 each) with dropout after each (§3.1: 0.5, `dropoutRate`) and the logits.
 * Scaled: widths × `widthMultiplier` (default 1/4: 16-32-64-128-128 convs, 1024-unit dense
 * layers); a pool whose output would be under 2×2 is skipped (on 32×32 inputs the fifth; on
 * 28×28 the fourth and fifth), so the flattened map keeps at least 2×2.
 * `batchNormalization`: a batch norm after each conv (as torchvision's vgg*_bn), off by default as in the paper.
 */
function vgg(name: 'vgg11' | 'vgg16', opts: PresetOptions): ModelSpec {
  const a = alphaOf(opts, 0.25);
  const bn = opts.batchNormalization ?? false;
  const n = new Net(opts);
  VGG_BLOCKS[name].forEach((block, b) => {
    block.forEach((f, c) => n.conv(`block${b + 1}_conv${c + 1}`, scaled(f, a), 3, { bn }));
    n.maxPool(`block${b + 1}_pool`, 2, 2);
  });
  n.add('flatten', { type: 'flatten' });
  const rate = opts.dropoutRate ?? 0.5;
  for (const fc of ['fc1', 'fc2']) {
    n.add(fc, { type: 'dense', units: scaled(4096, a), activation: 'relu', kernelInitializer: 'heNormal' });
    n.dropout(`${fc}_dropout`, rate);
  }
  n.logits();
  return n.g.spec(name, opts);
}

/** Inception modules of GoogLeNet's Table 1 (Szegedy et al. 2014): #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj. */
const INCEPTION_MODULES: [string, number, number, number, number, number, number][] = [
  ['3a', 64, 96, 128, 16, 32, 32],
  ['3b', 128, 128, 192, 32, 96, 64],
  ['4a', 192, 96, 208, 16, 48, 64],
];

/**
 * Inception-style (Szegedy et al. 2014, "Going deeper with convolutions", §4, §5 and Table 1):
 * stem conv1 64 7×7/2 → max pool 3×3/2 → conv2_reduce 64 1×1 → conv2 192 3×3 → max pool 3×3/2,
 * inception modules 3a and 3b, max pool 3×3/2, module 4a (Table 1's widths; the paper goes on
 * to 4e, 5a, 5b), global average pooling, dropout (40 %, `dropoutRate`), logits. Each module
 * has four branches read from the same input: 1×1 (`inception3a_1x1`); 1×1 reduction → 3×3
 * (`_3x3_reduce`, `_3x3`); 1×1 reduction → 5×5 (`_5x5_reduce`, `_5x5`); 3×3 max pool stride 1
 * same → 1×1 (`_pool`, `_pool_proj`), joined by a concatenate (`_output`). The 1×1 reductions
 * are the lecture's point: they cut the depth the 3×3 and 5×5 filters see (3a: 192 → 96 and 16).
 * No auxiliary classifiers, no local response normalisation (`batchNormalization` adds a batch
 * norm after every conv, as Inception v2).
 * Scaled: conv1 is 7×7/2 when the shorter input side is ≥ 128 px, 5×5/2 from 64 px, 3×3/1
 * below; widths × `widthMultiplier` (default 1/2); pools by the small-input rule.
 */
function inception(opts: PresetOptions): ModelSpec {
  const a = alphaOf(opts, 0.5);
  const bn = opts.batchNormalization ?? false;
  const n = new Net(opts);
  const side = Math.min(opts.inputShape[0], opts.inputShape[1]);
  const [k1, s1] = side >= 128 ? [7, 2] : side >= 64 ? [5, 2] : [3, 1];
  n.conv('conv1', scaled(64, a), k1, { strides: s1, bn });
  n.maxPool('pool1', 3, 2, 'same');
  n.conv('conv2_reduce', scaled(64, a), 1, { bn });
  n.conv('conv2', scaled(192, a), 3, { bn });
  n.maxPool('pool2', 3, 2, 'same');
  for (const [id, c1, r3, c3, r5, c5, pp] of INCEPTION_MODULES) {
    if (id === '4a') n.maxPool('pool3', 3, 2, 'same');
    const x = n.last;
    const m = `inception${id}`;
    const b1 = n.conv(`${m}_1x1`, scaled(c1, a), 1, { bn, inputs: [x] });
    n.conv(`${m}_3x3_reduce`, scaled(r3, a), 1, { bn, inputs: [x] });
    const b3 = n.conv(`${m}_3x3`, scaled(c3, a), 3, { bn });
    n.conv(`${m}_5x5_reduce`, scaled(r5, a), 1, { bn, inputs: [x] });
    const b5 = n.conv(`${m}_5x5`, scaled(c5, a), 5, { bn });
    n.add(`${m}_pool`, { type: 'maxPooling2d', poolSize: 3, strides: 1, padding: 'same' }, [x]);
    const bp = n.conv(`${m}_pool_proj`, scaled(pp, a), 1, { bn });
    n.add(`${m}_output`, { type: 'concatenate' }, [b1, b3, b5, bp]);
  }
  n.add('global_average_pooling', { type: 'globalAveragePooling2d' });
  n.dropout('dropout', opts.dropoutRate ?? 0.4);
  n.logits();
  return n.g.spec('inception', opts);
}

/**
 * ResNet for CIFAR (He, Zhang, Ren & Sun 2016, "Deep residual learning for image recognition",
 * §4.2): conv1 16 3×3 + BN + ReLU, then three stages of n basic blocks (n = 3, 5, 9 for depth
 * 6n + 2 = 20, 32, 56) with 16, 32, 64 filters (× `widthMultiplier`, default 1). A block
 * (`stageS_blockB_…`): conv1 3×3 → BN → ReLU → conv2 3×3 → BN, added (`_add`) to the shortcut,
 * then ReLU (`_relu`). The first block of stages 2 and 3 has stride 2 and a projection
 * shortcut, 1×1 conv stride 2 + BN (`_shortcut`, `_shortcut_bn`; §3.3 option B, where the
 * paper's CIFAR nets use option A, zero padding: B adds 2,752 parameters to ResNet-20); the
 * other shortcuts are the identity. Global average pooling, optional dropout (`dropoutRate`,
 * default 0: the paper has none), logits. Kernels heNormal (§3.4, He et al. 2015), no conv
 * biases before a batch norm. The strides follow the small-input rule (stride 1 where the map
 * would fall under 2×2; the shortcut is still a projection when the width changes).
 */
function resnet(depth: 20 | 32 | 56, opts: PresetOptions): ModelSpec {
  const a = alphaOf(opts, 1);
  const blocks = (depth - 2) / 6;
  const n = new Net(opts);
  const init: Initializer = 'heNormal';
  n.conv('conv1', scaled(16, a), 3, { bn: true, init });
  let width = scaled(16, a);
  [16, 32, 64].forEach((f, s) => {
    const filters = scaled(f, a);
    for (let b = 1; b <= blocks; b++) {
      const p = `stage${s + 1}_block${b}`;
      const x = n.last;
      const strides = s > 0 && b === 1 ? n.stride(3, 2, 'same') : 1;
      n.conv(`${p}_conv1`, filters, 3, { strides, bn: true, init });
      const main = n.conv(`${p}_conv2`, filters, 3, { bn: true, activation: 'linear', init });
      const shortcut = strides !== 1 || filters !== width ? n.conv(`${p}_shortcut`, filters, 1, { strides, bn: true, activation: 'linear', init, inputs: [x], track: false }) : x;
      n.add(`${p}_add`, { type: 'add' }, [main, shortcut]);
      n.add(`${p}_relu`, { type: 'activation', activation: 'relu' });
      width = filters;
    }
  });
  n.add('global_average_pooling', { type: 'globalAveragePooling2d' });
  n.dropout('dropout', opts.dropoutRate ?? 0);
  n.logits(init);
  return n.g.spec(`resnet${depth}`, opts);
}

/** MobileNet v1's 13 depthwise-separable blocks (Howard et al. 2017, Table 1): [stride of the depthwise conv, pointwise filters]. */
const MOBILENET_BLOCKS: [number, number][] = [
  [1, 64],
  [2, 128],
  [1, 128],
  [2, 256],
  [1, 256],
  [2, 512],
  [1, 512],
  [1, 512],
  [1, 512],
  [1, 512],
  [1, 512],
  [2, 1024],
  [1, 1024],
];

/**
 * MobileNet v1 (Howard et al. 2017, "MobileNets: efficient convolutional neural networks for
 * mobile vision applications", §3.1–3.3 and Table 1): conv1 32α 3×3/2 + BN + ReLU6, then 13
 * depthwise-separable blocks, each `dw_convI` (depthwiseConv2d 3×3, Table 1's stride) →
 * `dw_convI_bn` → `dw_convI_relu` → `pw_convI` (1×1 conv, 64α … 1024α filters) → `pw_convI_bn`
 * → `pw_convI_relu`, global average pooling, dropout (`dropoutRate`, default 0.001 as Keras'
 * MobileNet) and the logits. The activation is ReLU6, min(max(x, 0), 6), as TensorFlow's
 * MobileNet v1 and its published weights (the paper writes ReLU), so pre-trained weights can be
 * fine-tuned in this graph. The last block has stride 1 (Table 1's "s2" there is a known misprint:
 * its input and output are both 7×7). Width multiplier α = `widthMultiplier` (§3.3: 1, 0.75,
 * 0.5, 0.25; default 1). For small inputs the small-input rule makes the stride-2 steps that
 * would leave under 2×2 stride 1: on 32×32 the last one (2×2 stays 2×2); at 224×224 all five
 * are taken (7×7 before pooling, as the paper).
 */
function mobilenet(opts: PresetOptions): ModelSpec {
  const a = alphaOf(opts, 1);
  const n = new Net(opts);
  n.conv('conv1', scaled(32, a), 3, { strides: n.stride(3, 2, 'same'), bn: true, activation: 'relu6' });
  MOBILENET_BLOCKS.forEach(([s, f], i) => {
    const dw = `dw_conv${i + 1}`;
    const strides = n.stride(3, s, 'same');
    n.add(dw, { type: 'depthwiseConv2d', kernelSize: 3, strides, padding: 'same', depthMultiplier: 1, activation: 'linear', useBias: false, depthwiseInitializer: 'heNormal' });
    n.hw = n.after(3, strides, 'same');
    n.add(`${dw}_bn`, { type: 'batchNormalization', momentum: BN_MOMENTUM, epsilon: 1e-3 });
    n.add(`${dw}_relu`, { type: 'activation', activation: 'relu6' });
    n.conv(`pw_conv${i + 1}`, scaled(f, a), 1, { bn: true, activation: 'relu6' });
  });
  n.add('global_average_pooling', { type: 'globalAveragePooling2d' });
  n.dropout('dropout', opts.dropoutRate ?? 1e-3);
  n.logits();
  return n.g.spec('mobilenet', opts);
}

/**
 * The graph of a deep preset for `opts.inputShape` and `opts.numClasses` (see each builder
 * above for its paper, structure, defaults and how it is scaled). `batchNormalization` is
 * always on for the ResNets and MobileNet; `dropoutRate` 0 leaves the dropout nodes out.
 * @throws SpecError (field "widthMultiplier") for a width multiplier outside (0, 4].
 */
export function buildDeepPreset(name: DeepPresetName, opts: PresetOptions): ModelSpec {
  switch (name) {
    case 'alexnet':
      return alexnet(opts);
    case 'vgg11':
    case 'vgg16':
      return vgg(name, opts);
    case 'inception':
      return inception(opts);
    case 'resnet20':
      return resnet(20, opts);
    case 'resnet32':
      return resnet(32, opts);
    case 'resnet56':
      return resnet(56, opts);
    case 'mobilenet':
      return mobilenet(opts);
  }
}
