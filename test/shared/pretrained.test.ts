/**
 * A pre-trained backbone in the run spec (src/shared/pretrained.ts): the fine-tune's model
 * (backbone up to its global pooling + a new head), the freeze points of the guideline, the
 * class-name match for the head's start, and parseRunSpec's checks of the `pretrained` part.
 * On the shared MobileNet v1 0.5/160 file (read by src/shared/models/tflite) where present.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTflite } from '../../src/shared/models/tflite';
import { fineTuneSpec, freezePoint, frozenNodes, matchClasses } from '../../src/shared/pretrained';
import { buildPreset, describeModel, modelTotals, parseRunSpec, type GraphModelSpec } from '../../src/shared/spec';

/** A preset as a graph spec (the presets are written as graphs: src/shared/graph-builder.ts). */
function presetGraph(...args: Parameters<typeof buildPreset>): GraphModelSpec {
  const m = buildPreset(...args);
  if (!m.nodes) throw new Error('the preset is not a graph');
  return m as GraphModelSpec;
}
import { sharedData } from '../helpers';

const dir = sharedData('mobilenet-tflite');

describe('matchClasses', () => {
  const labels = ['background', 'bee eater', 'bee', 'ant, emmet, pismire', 'box', 'church, church building', 'tabby, tabby cat', 'tiger cat'];
  it('matches a class to the one label line holding it as a name, up to case, punctuation and a plural', () => {
    expect(matchClasses(['ants', 'Bees', 'boxes', 'churches', 'Church building'], labels)).toEqual([3, 2, 4, 5, 5]);
  });
  it('gives null for no match and for an ambiguous one', () => {
    expect(matchClasses(['dogs', 'cat'], labels)).toEqual([null, null]); // "cat" is a name of no line ("tabby cat", "tiger cat" are whole names)
    expect(matchClasses(['x'], ['x', 'y, x'])).toEqual([null]);
  });
  it.skipIf(!dir)('on ImageNet\'s labels: ants → 311, bees → 310 (index 0 = background)', () => {
    const imagenet = readFileSync(join(dir!, 'imagenet_labels.txt'), 'utf8').split('\n');
    expect(matchClasses(['ants', 'bees', 'hotdog', 'macaw'], imagenet)).toEqual([311, 310, 935, 89]);
    expect(imagenet[935]).toBe('hotdog, hot dog, red hot');
  });
});

describe('fineTuneSpec on a network without global pooling (an exported LeNet-5 read back)', () => {
  it('puts the new head where the final dense classifier was, reading the same node (dropout before it skipped)', () => {
    const lenet = presetGraph('lenet5', { inputShape: [32, 32, 3], numClasses: 10, dropoutRate: 0.3 });
    const old = lenet.nodes.find((n) => n.name === (lenet.output ?? lenet.nodes.at(-1)!.name))!;
    expect(old.layer.type).toBe('dense');
    const before = lenet.nodes.find((n) => n.name === old.inputs[0])!;
    const { spec, featureNode } = fineTuneSpec(lenet, 2);
    // Dropout (if the preset puts one before the classifier) is not the feature node: the dense it reads is.
    const expected = before.layer.type === 'dropout' ? before.inputs[0] : before.name;
    expect(featureNode).toBe(expected);
    expect(spec.nodes.at(-1)).toMatchObject({ name: 'logits', layer: { type: 'dense', units: 2 }, inputs: [featureNode] });
    // The new head reads as many features as the old one did.
    const rows = describeModel(spec);
    const oldRows = describeModel(lenet);
    const width = (r: ReturnType<typeof describeModel>, name: string) => r.find((x) => x.name === name)!.outputShape.at(-1);
    expect(width(rows, featureNode)).toBe(width(oldRows, featureNode));
    expect(rows.find((x) => x.name === 'logits')!.params).toBe((Number(width(rows, featureNode)) + 1) * 2);
  });

  it('refuses a graph whose output is neither after a global pooling nor a dense classifier, naming the model', () => {
    const g = presetGraph('lenet5', { inputShape: [32, 32, 3], numClasses: 10 });
    const conv = g.nodes.findIndex((n) => n.layer.type === 'conv2d');
    const cutAtConv = { ...g, nodes: g.nodes.slice(0, conv + 1), output: g.nodes[conv].name };
    expect(() => fineTuneSpec(cutAtConv, 2)).toThrow(/model: the backbone has no global pooling node and no dense classifier/);
  });
});

describe.skipIf(!dir)('fineTuneSpec and the freeze points on MobileNet v1 0.5/160', () => {
  const imported = dir ? readTflite(new Uint8Array(readFileSync(join(dir, 'mobilenet_v1_0.5_160_quant.tflite')))) : null;

  it('keeps the backbone up to its global pooling, adds head/dropout and logits for the classes', () => {
    const { spec, featureNode } = fineTuneSpec(imported!.spec, 2, 0.2);
    expect(featureNode).toBe('MobilenetV1/Logits/AvgPool_1a');
    expect(spec.nodes.slice(-2).map((n) => [n.name, n.layer.type, n.inputs])).toEqual([
      ['head/dropout', 'dropout', [featureNode]],
      ['logits', 'dense', ['head/dropout']],
    ]);
    expect(spec.output).toBe('logits');
    // Parameters: the file's 1,326,633 less the ImageNet classifier (512·1001 + 1001) plus the new head (512·2 + 2).
    expect(modelTotals(describeModel(spec)).params).toBe(1_326_633 - (512 * 1001 + 1001) + (512 * 2 + 2));
    expect(fineTuneSpec(imported!.spec, 5).spec.nodes.at(-1)!.inputs).toEqual([featureNode]); // no dropout node at rate 0
  });

  it('freezes by the guideline: like ImageNet all but the last block, unlike it the lower third, features all of the backbone', () => {
    const { spec, featureNode } = fineTuneSpec(imported!.spec, 2);
    const convs = spec.nodes.filter((n) => n.layer.type === 'conv2d' || n.layer.type === 'depthwiseConv2d').map((n) => n.name);
    expect(convs.length).toBe(27); // conv 0 + 13 × (depthwise, pointwise)
    expect(freezePoint(spec, featureNode, 'likeImagenet')).toBe('MobilenetV1/Conv2d_12_pointwise');
    expect(freezePoint(spec, featureNode, 'unlikeImagenet')).toBe(convs[8]); // 9 of 27 convolutions
    expect(convs[8]).toBe('MobilenetV1/Conv2d_4_pointwise'); // conv 0 and blocks 1–4
    expect(freezePoint(spec, featureNode, 'features')).toBe(featureNode);
    expect(freezePoint(spec, featureNode, 'none')).toBeNull();
    const frozen = frozenNodes(spec, 'MobilenetV1/Conv2d_12_pointwise');
    expect(frozen.length).toBe(25);
    expect(frozen[0]).toBe('MobilenetV1/Conv2d_0');
    expect(frozenNodes(spec, featureNode)).toEqual(spec.nodes.slice(0, -1).map((n) => n.name));
    expect(frozenNodes(spec, null)).toEqual([]);
    expect(() => frozenNodes(spec, 'nope')).toThrow(/pretrained.freezeUpTo: "nope" is not a node of the model/);
  });

  it('parseRunSpec keeps the pretrained part and refuses a freeze point or feature node the model lacks, naming the field', () => {
    const { spec: model, featureNode } = fineTuneSpec(imported!.spec, 2);
    const base = { datasetId: 1, model, training: { optimizer: { type: 'adam', learningRate: 1e-4 }, batchSize: 16, epochs: 5 } };
    const pretrained = { format: 'tflite', file: '/models/m.tflite', backbone: 'mobilenet_v1_0.5_160_quant', inputRange: 'symmetric', freezeUpTo: 'MobilenetV1/Conv2d_12_pointwise', featureNode, headInit: [311, 310] };
    const parsed = parseRunSpec({ ...base, pretrained });
    expect(parsed.pretrained).toEqual({ ...pretrained, resize: 'cover', foldedBatchNorm: true });
    expect(JSON.parse(JSON.stringify(parsed))).toEqual(parsed);
    let err: unknown;
    try {
      parseRunSpec({ ...base, pretrained: { ...pretrained, freezeUpTo: 'MobilenetV1/Conv2d_99' } });
    } catch (e) {
      err = e;
    }
    expect((err as { field?: string }).field).toBe('pretrained.freezeUpTo');
    expect(() => parseRunSpec({ ...base, pretrained: { ...pretrained, featureNode: 'x' } })).toThrow(/pretrained.featureNode: "x" is not a node/);
    expect(() => parseRunSpec({ ...base, pretrained: { ...pretrained, inputRange: 'imagenet' } })).toThrow(/pretrained.inputRange/);
  });
});
