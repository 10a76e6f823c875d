// @vitest-environment happy-dom
/**
 * Frozen nodes in the architecture view (issue 13): a fine-tune of the shared MobileNet v1
 * 0.5/160 (src/shared/pretrained.ts) frozen by the "data like ImageNet" rule draws its frozen
 * boxes marked (data-frozen, the "frozen" tag, the count in the bar) and the trained ones not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import ArchitectureView from '../../src/renderer/components/ArchitectureView.vue';
import { readTflite } from '../../src/shared/models/tflite';
import { fineTuneSpec, freezePoint, frozenNodes } from '../../src/shared/pretrained';
import { sharedData } from '../helpers';

const dir = sharedData('mobilenet-tflite');

describe.skipIf(!dir)('ArchitectureView with frozen nodes', () => {
  it('marks exactly the frozen nodes of a like-ImageNet fine-tune', () => {
    const imported = readTflite(new Uint8Array(readFileSync(join(dir!, 'mobilenet_v1_0.5_160_quant.tflite'))));
    const { spec, featureNode } = fineTuneSpec(imported.spec, 2);
    const frozen = frozenNodes(spec, freezePoint(spec, featureNode, 'likeImagenet'));
    const w = mount(ArchitectureView, { props: { spec, frozen, foldOver: 1000 } });
    const boxes = w.findAll('[data-testid="arch-node"]');
    const marked = boxes.filter((b) => b.attributes('data-frozen') === 'true').map((b) => b.attributes('data-node-name'));
    expect(marked).toEqual(frozen);
    expect(marked.length).toBe(25);
    expect(boxes.find((b) => b.attributes('data-node-name') === 'logits')!.attributes('data-frozen')).toBe('false');
    expect(boxes.find((b) => b.attributes('data-node-name') === 'MobilenetV1/Conv2d_0')!.text()).toContain('frozen');
    expect(w.get('[data-testid="arch-frozen-count"]').text()).toBe('· 25\u00a0frozen');
    expect(mount(ArchitectureView, { props: { spec } }).find('[data-testid="arch-frozen-count"]').exists()).toBe(false);
  });
});
