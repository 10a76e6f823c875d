/**
 * A small ResNet-style graph for the architecture tests (He et al. 2016, §3.2/§4.2: basic blocks
 * conv3×3-BN-ReLU-conv3×3-BN, add, ReLU; a 1×1 strided projection with BN where a stage halves the
 * size and doubles the width), built with GraphBuilder so it does not depend on the deep presets.
 */
import { GraphBuilder } from '../../src/shared/graph-builder';
import type { GraphModelSpec } from '../../src/shared/spec';

/** `stages` stages of `blocks` blocks each on a 32×32×3 input, 10 classes; stage s > 1 starts with stride 2 and a projection. */
export function residualSpec(blocks: number, stages = 1): GraphModelSpec {
  const g = new GraphBuilder();
  g.add({ type: 'conv2d', filters: 8, kernelSize: 3, padding: 'same', activation: 'linear', useBias: false }, { name: 'stem_conv' });
  g.add({ type: 'batchNormalization' }, { name: 'stem_bn' });
  g.add({ type: 'activation', activation: 'relu' }, { name: 'stem_relu' });
  for (let s = 1; s <= stages; s++) {
    const filters = 8 * 2 ** (s - 1);
    for (let b = 1; b <= blocks; b++) {
      const entry = g.last;
      const p = `stage${s}_block${b}_`;
      const stride = s > 1 && b === 1 ? 2 : 1;
      g.add({ type: 'conv2d', filters, kernelSize: 3, strides: stride, padding: 'same', activation: 'linear', useBias: false }, { name: `${p}conv1` });
      g.add({ type: 'batchNormalization' }, { name: `${p}bn1` });
      g.add({ type: 'activation', activation: 'relu' }, { name: `${p}relu1` });
      g.add({ type: 'conv2d', filters, kernelSize: 3, padding: 'same', activation: 'linear', useBias: false }, { name: `${p}conv2` });
      const main = g.add({ type: 'batchNormalization' }, { name: `${p}bn2` });
      let short = entry;
      if (stride === 2) {
        g.add({ type: 'conv2d', filters, kernelSize: 1, strides: 2, activation: 'linear', useBias: false }, { name: `${p}proj`, inputs: [entry] });
        short = g.add({ type: 'batchNormalization' }, { name: `${p}proj_bn` });
      }
      g.add({ type: 'add' }, { name: `${p}add`, inputs: [main, short] });
      g.add({ type: 'activation', activation: 'relu' }, { name: `${p}out` });
    }
  }
  g.add({ type: 'globalAveragePooling2d' }, { name: 'gap' });
  g.add({ type: 'dense', units: 10 }, { name: 'logits' });
  return g.spec('custom', { inputShape: [32, 32, 3], numClasses: 10 }) as GraphModelSpec;
}
