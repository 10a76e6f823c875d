/**
 * A tiny TFLite writer for tests: one subgraph, tensors with optional buffers and
 * quantization, operators by builtin code with Conv2DOptions or none. Written with the
 * flatbuffers Builder from the field numbers of TensorFlow's schema.fbs (as the reader's
 * accessors are), so a test can make the files no shared model contains: an unsupported
 * operator, int8 per-channel weights, a bias without quantization parameters.
 */
import { Builder } from 'flatbuffers';

export interface TensorDef {
  name: string;
  shape: number[];
  /** TensorType: 0 float32, 2 int32, 3 uint8, 9 int8. */
  type: number;
  data?: Uint8Array;
  quant?: { scale: number[]; zeroPoint: number[]; axis?: number };
}
export interface OpDef {
  code: number;
  inputs: number[];
  outputs: number[];
  /** Conv2DOptions (union type 1): padding 0 SAME / 1 VALID, strides, fused activation. */
  conv?: { padding: number; stride: number; activation: number };
}

/** A TFLite flatbuffer ("TFL3") with these tensors and operators; graph input tensor 0, output the last op's output. */
export function buildTflite(tensors: TensorDef[], ops: OpDef[], input = 0, output = ops[ops.length - 1].outputs[0]): Uint8Array {
  const b = new Builder(1024);
  const intVector = (xs: number[]): number => {
    b.startVector(4, xs.length, 4);
    for (let i = xs.length - 1; i >= 0; i--) b.addInt32(xs[i]);
    return b.endVector();
  };
  const floatVector = (xs: number[]): number => {
    b.startVector(4, xs.length, 4);
    for (let i = xs.length - 1; i >= 0; i--) b.addFloat32(xs[i]);
    return b.endVector();
  };
  const longVector = (xs: number[]): number => {
    b.startVector(8, xs.length, 8);
    for (let i = xs.length - 1; i >= 0; i--) b.addInt64(BigInt(xs[i]));
    return b.endVector();
  };
  const tableVector = (offs: number[]): number => {
    b.startVector(4, offs.length, 4);
    for (let i = offs.length - 1; i >= 0; i--) b.addOffset(offs[i]);
    return b.endVector();
  };
  // Buffers: 0 is the empty sentinel; each tensor with data gets the next one.
  const bufferOffsets: number[] = [];
  const bufferIndex: number[] = [];
  const empty = (): number => {
    b.startObject(1);
    return b.endObject();
  };
  bufferOffsets.push(empty());
  for (const t of tensors) {
    if (!t.data) {
      bufferIndex.push(0);
      continue;
    }
    const data = b.createByteVector(t.data);
    b.startObject(1);
    b.addFieldOffset(0, data, 0);
    bufferIndex.push(bufferOffsets.length);
    bufferOffsets.push(b.endObject());
  }
  const tensorOffsets = tensors.map((t, i) => {
    const name = b.createString(t.name);
    const shape = intVector(t.shape);
    let quant = 0;
    if (t.quant) {
      const scale = floatVector(t.quant.scale);
      const zp = longVector(t.quant.zeroPoint);
      b.startObject(7);
      b.addFieldOffset(2, scale, 0);
      b.addFieldOffset(3, zp, 0);
      b.addFieldInt32(6, t.quant.axis ?? 0, 0);
      quant = b.endObject();
    }
    b.startObject(8);
    b.addFieldOffset(0, shape, 0);
    b.addFieldInt8(1, t.type, -1);
    b.addFieldInt32(2, bufferIndex[i], -1);
    b.addFieldOffset(3, name, 0);
    if (quant) b.addFieldOffset(4, quant, 0);
    return b.endObject();
  });
  const codes = [...new Set(ops.map((o) => o.code))];
  const codeOffsets = codes.map((c) => {
    b.startObject(4);
    b.addFieldInt8(0, Math.min(c, 127), -1);
    b.addFieldInt32(2, 1, 0);
    b.addFieldInt32(3, c, -1);
    return b.endObject();
  });
  const opOffsets = ops.map((o) => {
    const ins = intVector(o.inputs);
    const outs = intVector(o.outputs);
    let options = 0;
    if (o.conv) {
      b.startObject(6);
      b.addFieldInt8(0, o.conv.padding, -1);
      b.addFieldInt32(1, o.conv.stride, -1);
      b.addFieldInt32(2, o.conv.stride, -1);
      b.addFieldInt8(3, o.conv.activation, -1);
      options = b.endObject();
    }
    b.startObject(5);
    b.addFieldInt32(0, codes.indexOf(o.code), -1);
    b.addFieldOffset(1, ins, 0);
    b.addFieldOffset(2, outs, 0);
    if (options) {
      b.addFieldInt8(3, 1, 0);
      b.addFieldOffset(4, options, 0);
    }
    return b.endObject();
  });
  const tensorsVec = tableVector(tensorOffsets);
  const inputs = intVector([input]);
  const outputs = intVector([output]);
  const opsVec = tableVector(opOffsets);
  b.startObject(5);
  b.addFieldOffset(0, tensorsVec, 0);
  b.addFieldOffset(1, inputs, 0);
  b.addFieldOffset(2, outputs, 0);
  b.addFieldOffset(3, opsVec, 0);
  const subgraph = b.endObject();
  const codesVec = tableVector(codeOffsets);
  const subgraphs = tableVector([subgraph]);
  const buffers = tableVector(bufferOffsets);
  b.startObject(5);
  b.addFieldInt32(0, 3, -1);
  b.addFieldOffset(1, codesVec, 0);
  b.addFieldOffset(2, subgraphs, 0);
  b.addFieldOffset(4, buffers, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array().slice();
}

/** Little-endian bytes of int8 / int32 / float32 values. */
export const int8Bytes = (xs: number[]): Uint8Array => new Uint8Array(Int8Array.from(xs).buffer);
export const int32Bytes = (xs: number[]): Uint8Array => new Uint8Array(Int32Array.from(xs).buffer);
export const float32Bytes = (xs: number[]): Uint8Array => new Uint8Array(Float32Array.from(xs).buffer);
