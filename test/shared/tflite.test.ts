/**
 * The TFLite reader (src/shared/models/tflite) on the four shared MobileNets and on small
 * files written here (test/shared/helpers/tflite-builder.ts) for what they do not contain.
 *
 * References: the operator counts of the papers' architectures (MobileNet v1, Howard et al.
 * 2017, Table 1: a 3×3 conv, 13 depthwise-separable blocks, average pool, classifier; v2,
 * Sandler et al. 2018, Table 2: a 3×3 conv, 17 bottlenecks — the first without expansion —,
 * a 1×1 conv to 1280, average pool, classifier; 10 residual adds where a block repeats), the
 * parameter and multiply-add figures published with the checkpoints (TF-slim's MobileNet v1
 * table: 0.47 M / 14 M for 0.25-128, 1.34 M / 77 M for 0.5-160, 2.59 M / 233 M for 0.75-192;
 * MobileNet v2 1.0-224: 3.47 M / 300 M), and the file itself read through the raw tables.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTflite } from '../../src/shared/models/tflite';
import { applyAffine, biasAffine, constantValues } from '../../src/shared/models/tflite/dequantize';
import { Model } from '../../src/shared/models/tflite/tables';
import { describeModel, modelTotals } from '../../src/shared/spec';
import { ApiError } from '../../src/shared/errors';
import { sharedData } from '../helpers';
import { buildTflite, float32Bytes, int32Bytes, int8Bytes } from './helpers/tflite-builder';

const dir = sharedData('mobilenet-tflite');
const FILES = {
  'mobilenet_v1_0.25_128_quant.tflite': { size: 128, params: 0.47e6, macs: 14e6, v2: false },
  'mobilenet_v1_0.5_160_quant.tflite': { size: 160, params: 1.34e6, macs: 77e6, v2: false },
  'mobilenet_v1_0.75_192_quant.tflite': { size: 192, params: 2.59e6, macs: 233e6, v2: false },
  'mobilenet_v2_1.0_224_quant.tflite': { size: 224, params: 3.47e6, macs: 300e6, v2: true },
} as const;
const within = (got: number, want: number, tol: number): void => expect(Math.abs(got / want - 1), `${got} vs ${want}`).toBeLessThanOrEqual(tol);

describe.skipIf(!dir)('readTflite on the shared MobileNets', () => {
  for (const [file, ref] of Object.entries(FILES)) {
    it(`${file}: operators, parameters and shapes match the file and the paper`, () => {
      const bytes = new Uint8Array(readFileSync(join(dir!, file)));
      const r = readTflite(bytes, file);
      // Operator counts: the architecture of the paper, and the file's own operator list read through the raw tables.
      const want = ref.v2
        ? { CONV_2D: 1 + 16 + 17 + 1 + 1, DEPTHWISE_CONV_2D: 17, ADD: 10, AVERAGE_POOL_2D: 1, RESHAPE: 1, SOFTMAX: 1 }
        : { CONV_2D: 1 + 13 + 1, DEPTHWISE_CONV_2D: 13, AVERAGE_POOL_2D: 1, RESHAPE: 1, SOFTMAX: 1 };
      expect(r.summary.opCounts).toEqual(want);
      const raw = Model.fromBytes(bytes);
      const g = raw.subgraphs[0];
      expect(g.operators.length).toBe(Object.values(want).reduce((a, b) => a + b, 0));
      // Parameters: every weight and bias tensor of the file (conv, depthwise: inputs 1 and 2), counted from their shapes.
      let fileParams = 0;
      for (const op of g.operators) {
        const code = raw.operatorCodes[op.opcodeIndex].code;
        if (code === 3 || code === 4) for (const t of op.inputs.slice(1)) fileParams += g.tensors[t].shape.reduce((a, b) => a * b, 1);
      }
      const info = describeModel(r.spec);
      const totals = modelTotals(info);
      expect(r.summary.parameterCount).toBe(fileParams);
      expect(totals.params).toBe(fileParams);
      within(totals.params, ref.params, 0.02); // the table's figures are rounded to 0.01 M
      within(totals.macs, ref.macs, 0.04); // rounded to 1 M (14 M for 13.6 M)
      // Shapes: the input, the ImageNet logits (1,001 with background), and every node's output as the file's tensor.
      expect(r.spec.inputShape).toEqual([ref.size, ref.size, 3]);
      expect(r.spec.numClasses).toBe(1001);
      expect(info[info.length - 1].outputShape).toEqual([1001]);
      expect(r.summary.input).toEqual({ shape: [1, ref.size, ref.size, 3], type: 'uint8', scale: 1 / 128, zeroPoint: 128 });
      expect(r.inputRange).toBe('symmetric');
      expect(r.outputSoftmax).toBe(true);
      expect(r.foldedBatchNorm).toBe(true);
      expect(r.summary.quantized).toBe(true);
      const convs = info.filter((n) => n.layer.type === 'conv2d' || n.layer.type === 'depthwiseConv2d');
      const fileConvOuts = g.operators.filter((op) => [3, 4].includes(raw.operatorCodes[op.opcodeIndex].code)).map((op) => g.tensors[op.outputs[0]].shape.slice(1));
      expect(convs.map((n) => n.outputShape)).toEqual(fileConvOuts.slice(0, -1)); // the last 1×1 conv is the dense classifier on the pooled vector
      expect(info.filter((n) => n.layer.type === 'dense').map((n) => n.outputShape)).toEqual([[1001]]);
    });
  }

  it('dequantizes uint8 weights as scale·(q − zero point), conv OHWI → HWIO and depthwise [1,H,W,C·m] → [H,W,C,m], biases at input scale × weight scale', () => {
    const bytes = new Uint8Array(readFileSync(join(dir!, 'mobilenet_v1_0.5_160_quant.tflite')));
    const r = readTflite(bytes);
    const raw = Model.fromBytes(bytes);
    const g = raw.subgraphs[0];
    const [conv0, dw1] = g.operators;
    // First conv: kernel [16, 3, 3, 3] OHWI in the file; ours [3, 3, 3, 16] HWIO.
    const kT = g.tensors[conv0.inputs[1]];
    const q = raw.bufferData(kT.buffer);
    const s = kT.quantization!.scale[0];
    const z = kT.quantization!.zeroPoint[0];
    const ours = r.weights[0].weights[0];
    expect(ours.shape).toEqual([3, 3, 3, 16]);
    for (const [o, h, w, i] of [[0, 0, 0, 0], [15, 2, 2, 2], [7, 1, 0, 2], [3, 2, 1, 0]]) {
      expect(ours.values[((h * 3 + w) * 3 + i) * 16 + o]).toBeCloseTo(s * (q[((o * 3 + h) * 3 + w) * 3 + i] - z), 6);
    }
    // Depthwise: [1, 3, 3, 16] → [3, 3, 16, 1], element by element the same order.
    const dT = g.tensors[dw1.inputs[1]];
    const dq = raw.bufferData(dT.buffer);
    const dw = r.weights[1].weights[0];
    expect(dw.shape).toEqual([3, 3, 16, 1]);
    for (const k of [0, 17, 100, 143]) expect(dw.values[k]).toBeCloseTo(dT.quantization!.scale[0] * (dq[k] - dT.quantization!.zeroPoint[0]), 6);
    // Every conv's int32 bias is stored at scale = input scale × weight scale, zero point 0 (the rule the reader falls back on).
    for (const op of g.operators.filter((o) => o.inputs.length === 3)) {
      const [x, wt, b] = op.inputs.map((i) => g.tensors[i]);
      const rule = biasAffine(x, wt)!;
      expect(b.quantization!.zeroPoint[0]).toBe(0);
      within(b.quantization!.scale[0], rule.scale[0], 1e-5);
    }
    // The bias values: int32 × its scale.
    const bT = g.tensors[conv0.inputs[2]];
    const bq = new Int32Array(raw.bufferData(bT.buffer).slice().buffer);
    expect(Array.from(r.weights[0].weights[1].values.slice(0, 4))).toEqual(Array.from(bq.slice(0, 4), (v) => Math.fround(bT.quantization!.scale[0] * v)));
  });
});

describe('readTflite on written files', () => {
  const input = { name: 'input', shape: [1, 4, 4, 1], type: 3, quant: { scale: [1 / 128], zeroPoint: [128] } };

  it('dequantizes int8 per-channel weights along quantizedDimension, a bias without parameters at input × weight scale', () => {
    // conv 1×1, 1 → 2 filters; weights int8 [2, 1, 1, 1], scales [0.5, 0.25] along axis 0; bias int32 [10, 20], no quantization.
    const bytes = buildTflite(
      [
        input,
        { name: 'w', shape: [2, 1, 1, 1], type: 9, data: int8Bytes([4, -8]), quant: { scale: [0.5, 0.25], zeroPoint: [0, 0], axis: 0 } },
        { name: 'b', shape: [2], type: 2, data: int32Bytes([128 * 10, 128 * 20]) },
        { name: 'net/conv/Relu6', shape: [1, 4, 4, 2], type: 9 },
        { name: 'net/pool/Mean', shape: [1, 1, 1, 2], type: 9 },
      ],
      [
        { code: 3, inputs: [0, 1, 2], outputs: [3], conv: { padding: 1, stride: 1, activation: 3 } },
        { code: 1, inputs: [3], outputs: [4] },
      ],
    );
    // AVERAGE_POOL_2D without options is refused by name; with the conv alone the graph ends in an image, also refused.
    expect(() => readTflite(bytes, 'tiny.tflite')).toThrow(/tiny\.tflite: operator 1 \(AVERAGE_POOL_2D, output "net\/pool\/Mean"\): no options/);
    const convOnly = buildTflite(
      [input, { name: 'w', shape: [2, 1, 1, 1], type: 9, data: int8Bytes([4, -8]), quant: { scale: [0.5, 0.25], zeroPoint: [0, 0], axis: 0 } }, { name: 'b', shape: [2], type: 2, data: int32Bytes([128 * 10, 128 * 20]) }, { name: 'net/conv/Relu6', shape: [1, 4, 4, 2], type: 9 }],
      [{ code: 3, inputs: [0, 1, 2], outputs: [3], conv: { padding: 1, stride: 1, activation: 3 } }],
    );
    expect(() => readTflite(convOnly)).toThrow(/the output has shape \[4, 4, 2\]/);
    const raw = Model.fromBytes(convOnly);
    const t = raw.subgraphs[0].tensors;
    expect(Array.from(constantValues(raw, t[1]))).toEqual([2, -2]); // 0.5·4, 0.25·(−8)
    const rule = biasAffine(t[0], t[1])!;
    expect(rule.scale).toEqual([0.5 / 128, 0.25 / 128]);
    expect(Array.from(constantValues(raw, t[2], rule))).toEqual([5, 5]); // 1280·0.5/128, 2560·0.25/128
  });

  it('applyAffine runs the scales along the given axis of a row-major tensor', () => {
    // shape [2, 3], axis 1: column c uses scale[c], zero point[c].
    expect(Array.from(applyAffine([1, 2, 3, 4, 5, 6], [2, 3], { scale: [1, 10, 100], zeroPoint: [0, 1, 2], axis: 1 }))).toEqual([1, 10, 100, 4, 40, 400]);
    expect(() => applyAffine([1, 2], [2], { scale: [1, 2, 3], zeroPoint: [0, 0, 0], axis: 0 })).toThrow(/3 quantization scales along axis 0/);
  });

  it('refuses an unsupported operator naming it, and bytes that are not a TFLite file', () => {
    const bytes = buildTflite(
      [
        { ...input, type: 0, quant: undefined },
        { name: 'size', shape: [2], type: 2, data: int32Bytes([8, 8]) },
        { name: 'resized', shape: [1, 8, 8, 1], type: 0 },
      ],
      [{ code: 23, inputs: [0, 1], outputs: [2] }],
    );
    let err: unknown;
    try {
      readTflite(bytes, 'resize.tflite');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('invalid_params');
    expect((err as ApiError).message).toBe('resize.tflite: operator 0 (RESIZE_BILINEAR, output "resized"): not supported');
    // An operator code this reader has no name for is named by its number; a custom one by its code string is covered by the same path.
    const unknown = buildTflite([{ ...input, type: 0, quant: undefined }, { name: 'y', shape: [1, 4, 4, 1], type: 0 }], [{ code: 150, inputs: [0], outputs: [1] }]);
    expect(() => readTflite(unknown)).toThrow(/operator 0 \(builtin operator 150, output "y"\): not supported/);
    expect(() => readTflite(new Uint8Array(64))).toThrow(/model file: not a TFLite file: identifier/);
    expect(() => readTflite(float32Bytes([1]))).toThrow(/not a TFLite file: 4 bytes/);
  });
});
