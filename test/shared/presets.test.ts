/**
 * The deep presets (src/shared/presets-deep.ts) against their papers: parameter counts,
 * the shapes the tables print, JSON round-trip through parseRunSpec, stable node names.
 *
 * Counting: describeModel's `params` follow Keras (batch norm counts 4·c: gamma, beta and the
 * moving mean and variance). The papers count what is trained, so `trainable()` below takes
 * batch norm's moving statistics (2·c of its 4·c) out.
 */
import { describe, expect, it } from 'vitest';
import { buildPreset, describeModel, modelTotals, parseRunSpec, type NodeInfo, type PresetName, type PresetOptions } from '../../src/shared/spec';

const DEEP: Exclude<PresetName, 'custom' | 'linear' | 'mlp' | 'lenet5'>[] = ['alexnet', 'vgg11', 'vgg16', 'inception', 'resnet20', 'resnet32', 'resnet56', 'mobilenet'];

/** Trainable parameters: describeModel's total less batch norm's moving mean and variance (2·c per batch norm node). */
function trainable(info: NodeInfo[]): number {
  return info.reduce((a, n) => a + (n.layer.type === 'batchNormalization' ? n.params / 2 : n.params), 0);
}
const count = (name: (typeof DEEP)[number], opts: PresetOptions): number => trainable(describeModel(buildPreset(name, opts)));
/** |got / want − 1| ≤ tol. */
function within(got: number, want: number, tol: number): void {
  expect(Math.abs(got / want - 1), `${got} vs ${want}`).toBeLessThanOrEqual(tol);
}
const cifar: PresetOptions = { inputShape: [32, 32, 3], numClasses: 10 };
const imagenet = (side: number): PresetOptions => ({ inputShape: [side, side, 3], numClasses: 1000, widthMultiplier: 1 });

describe('deep presets: parameter counts against the papers', () => {
  it('ResNet-20 on CIFAR-10 has ≈ 0.27 M trainable parameters (He et al. 2016, Table 6), within 1 %', () => {
    const n = count('resnet20', cifar);
    console.log(`ResNet-20: ${n} trainable parameters (paper 0.27M)`);
    within(n, 0.27e6, 0.01);
  });
  it('ResNet-32 ≈ 0.46 M and ResNet-56 ≈ 0.85 M (Table 6; option B projections add 2,752 to the paper\'s option A), within 2 %', () => {
    const n32 = count('resnet32', cifar);
    const n56 = count('resnet56', cifar);
    console.log(`ResNet-32: ${n32}, ResNet-56: ${n56} trainable parameters (paper 0.46M, 0.85M)`);
    within(n32, 0.46e6, 0.02);
    within(n56, 0.85e6, 0.02);
    // The depth difference is exactly the extra basic blocks: 2 per stage from 20 to 32, each 2 convs + 2 BNs.
    const block = (c: number): number => 2 * (9 * c * c + 2 * c);
    expect(n32 - count('resnet20', cifar)).toBe(2 * (block(16) + block(32) + block(64)));
  });
  it('ResNet stages: 32×32 → 16×16 → 8×8 with 16/32/64 filters, projection shortcuts only where the shape changes', () => {
    const info = describeModel(buildPreset('resnet20', cifar));
    const shape = (name: string) => info.find((n) => n.name === name)?.outputShape;
    expect(shape('stage1_block3_add')).toEqual([32, 32, 16]);
    expect(shape('stage2_block1_add')).toEqual([16, 16, 32]);
    expect(shape('stage3_block3_relu')).toEqual([8, 8, 64]);
    expect(info.filter((n) => n.name.endsWith('_shortcut')).map((n) => n.name)).toEqual(['stage2_block1_shortcut', 'stage3_block1_shortcut']);
    // Identity shortcut: the add reads the block's input itself.
    expect(info.find((n) => n.name === 'stage1_block2_add')?.inputs).toEqual(['stage1_block2_conv2_bn', 'stage1_block1_relu']);
    expect(info.find((n) => n.name === 'stage2_block1_add')?.inputs).toEqual(['stage2_block1_conv2_bn', 'stage2_block1_shortcut_bn']);
    expect(info.filter((n) => n.layer.type === 'conv2d').every((n) => n.layer.type === 'conv2d' && !n.layer.useBias && n.layer.kernelInitializer === 'heNormal')).toBe(true);
  });
  it('MobileNet 1.0-224 with 1000 classes: ≈ 4.2 M parameters and ≈ 569 M multiply-adds (Howard et al. 2017, Table 8), within 1 %', () => {
    const info = describeModel(buildPreset('mobilenet', imagenet(224)));
    const n = trainable(info);
    const macs = modelTotals(info).macs;
    console.log(`MobileNet 1.0-224: ${n} trainable parameters (paper 4.2M), ${(macs / 1e6).toFixed(1)}M multiply-adds (paper 569M)`);
    within(n, 4.2e6, 0.01);
    within(macs, 569e6, 0.01);
    expect(info.find((n) => n.name === 'pw_conv13_relu')?.outputShape).toEqual([7, 7, 1024]);
  });
  it('MobileNet width multiplier 0.5 at 160 px: ≈ 1.32 M parameters (Table 7 "0.50 MobileNet-160"), within 1 %', () => {
    const n = count('mobilenet', { ...imagenet(160), widthMultiplier: 0.5 });
    within(n, 1.32e6, 0.01);
  });
  it('VGG-11 and VGG-16 at 224 px with the paper\'s widths: 133 M and 138 M (Simonyan & Zisserman 2014, Table 2), within 1 %', () => {
    within(count('vgg11', imagenet(224)), 133e6, 0.01);
    within(count('vgg16', imagenet(224)), 138e6, 0.01);
  });
  it('AlexNet at 227 px with the paper\'s widths: ≈ 60 M parameters (Krizhevsky et al. 2012, §1), within 5 % (one tower: conv2, 4, 5 not split in two groups)', () => {
    const info = describeModel(buildPreset('alexnet', { ...imagenet(227) }));
    expect(info.find((n) => n.name === 'conv1')?.outputShape).toEqual([55, 55, 96]);
    expect(info.find((n) => n.name === 'pool5')?.outputShape).toEqual([6, 6, 256]);
    within(trainable(info), 60e6, 0.05);
  });
  it('Inception modules 3a, 3b, 4a give Table 1\'s output depths (256, 480, 512) and parameters (159K, 380K, 364K) within 4 %', () => {
    const info = describeModel(buildPreset('inception', imagenet(224)));
    const module = (id: string) => info.filter((n) => n.name.startsWith(`inception${id}_`));
    const depth = (id: string) => module(id).find((n) => n.name.endsWith('_output'))?.outputShape;
    expect(depth('3a')).toEqual([28, 28, 256]);
    expect(depth('3b')).toEqual([28, 28, 480]);
    expect(depth('4a')).toEqual([14, 14, 512]);
    within(trainable(module('3a')), 159e3, 0.04);
    within(trainable(module('3b')), 380e3, 0.04);
    within(trainable(module('4a')), 364e3, 0.04);
    // The four branches read the module's input; the 1×1 reductions feed the 3×3 and 5×5.
    const node = (name: string) => info.find((n) => n.name === name);
    expect(node('inception3a_3x3')?.inputs).toEqual(['inception3a_3x3_reduce']);
    expect(node('inception3a_3x3_reduce')?.inputShapes[0]).toEqual([28, 28, 192]);
    expect(node('inception3a_output')?.inputs).toEqual(['inception3a_1x1', 'inception3a_3x3', 'inception3a_5x5', 'inception3a_pool_proj']);
  });
});

describe('deep presets: shapes, JSON, names', () => {
  const inputs: [number, number, 1 | 3][] = [
    [32, 32, 3],
    [28, 28, 1],
  ];
  for (const name of DEEP) {
    for (const inputShape of inputs) {
      it(`${name} at ${inputShape.join('×')} describes, ends in 'logits', and round-trips through JSON and parseRunSpec`, () => {
        const spec = buildPreset(name, { inputShape, numClasses: 10 });
        const info = describeModel(spec);
        expect(info.at(-1)).toMatchObject({ name: 'logits', outputShape: [10] });
        expect(spec.preset).toBe(name);
        // The spatial map before the head keeps at least 2×2 (the small-input rule).
        const head = info.find((n) => n.layer.type === 'flatten' || n.layer.type === 'globalAveragePooling2d')!;
        expect(Math.min(head.inputShapes[0][0], head.inputShapes[0][1])).toBeGreaterThanOrEqual(2);
        const json = JSON.parse(JSON.stringify(spec)) as unknown;
        expect(json).toEqual(spec);
        const run = parseRunSpec({ datasetId: 1, model: json, training: { optimizer: { type: 'sgd', learningRate: 0.01 } } });
        expect(run.model).toEqual(spec);
        const names = spec.nodes!.map((n) => n.name);
        expect(new Set(names).size).toBe(names.length);
        expect(buildPreset(name, { inputShape, numClasses: 10 }).nodes!.map((n) => n.name)).toEqual(names);
        // Readable names: no Keras-style `<type>_<n>` counters.
        expect(names.filter((n) => /^(conv2d|dense|batchNormalization|activation|add|concatenate)_\d+$/.test(n))).toEqual([]);
      });
    }
  }

  it('small inputs: VGG-16 skips the pools that would leave under 2×2; MobileNet takes its last stride-2 step with stride 1 on 32×32', () => {
    const pools = (shape: [number, number, 1 | 3]) =>
      describeModel(buildPreset('vgg16', { inputShape: shape, numClasses: 10 }))
        .filter((n) => n.layer.type === 'maxPooling2d')
        .map((n) => n.name);
    expect(pools([224, 224, 3])).toEqual(['block1_pool', 'block2_pool', 'block3_pool', 'block4_pool', 'block5_pool']);
    expect(pools([32, 32, 3])).toEqual(['block1_pool', 'block2_pool', 'block3_pool', 'block4_pool']);
    expect(pools([28, 28, 1])).toEqual(['block1_pool', 'block2_pool', 'block3_pool']);
    const info = describeModel(buildPreset('mobilenet', cifar));
    const dw = (i: number) => info.find((n) => n.name === `dw_conv${i}`)!;
    expect(dw(12).layer).toMatchObject({ type: 'depthwiseConv2d', strides: 1 });
    expect(dw(12).outputShape).toEqual([2, 2, 512]);
    expect(dw(6).layer).toMatchObject({ strides: 2 });
    expect(info.find((n) => n.name === 'dw_conv3_relu')?.layer).toMatchObject({ type: 'activation', activation: 'relu6' });
  });

  it('options: dropoutRate 0 leaves out the dropout nodes, batchNormalization adds conv_bn nodes, widthMultiplier scales the filters', () => {
    const plain = buildPreset('vgg11', { ...cifar, dropoutRate: 0 });
    expect(plain.nodes!.some((n) => n.layer.type === 'dropout')).toBe(false);
    const withBn = buildPreset('vgg11', { ...cifar, batchNormalization: true });
    expect(withBn.nodes!.map((n) => n.name)).toContain('block1_conv1_bn');
    expect(buildPreset('alexnet', cifar).nodes!.filter((n) => n.layer.type === 'dropout').map((n) => n.layer)).toEqual([
      { type: 'dropout', rate: 0.5 },
      { type: 'dropout', rate: 0.5 },
    ]);
    const conv1 = (a: number) => buildPreset('mobilenet', { ...cifar, widthMultiplier: a }).nodes!.find((n) => n.name === 'conv1')!.layer;
    expect(conv1(0.25)).toMatchObject({ filters: 8 });
    expect(conv1(0.75)).toMatchObject({ filters: 24 });
    expect(() => buildPreset('resnet20', { ...cifar, widthMultiplier: 0 })).toThrow(/widthMultiplier/);
  });
});
