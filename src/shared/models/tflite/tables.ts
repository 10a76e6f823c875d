/**
 * Read-only accessors for the tables of a TFLite file that the MobileNets use, written by
 * hand over the `flatbuffers` runtime's ByteBuffer (no generated code, no copy of the schema).
 * Field numbers follow TensorFlow's public `tensorflow/lite/schema/schema.fbs` (a field's
 * vtable slot is 4 + 2·its index there); new fields are only ever appended there, so the
 * numbers below hold for every schema version since 3.
 *
 * A FlatBuffers table is a vtable of field offsets (0 = absent, read as the schema's default);
 * vectors and sub-tables are reached through 32-bit offsets (FlatBuffers "Internals").
 * Nothing is decoded until asked for; vectors are copied out.
 */
import { ByteBuffer } from 'flatbuffers';

/** TensorType (schema.fbs): the element types this reader can turn into float32 or integers. */
export const TensorType = { FLOAT32: 0, FLOAT16: 1, INT32: 2, UINT8: 3, INT64: 4, INT16: 7, INT8: 9 } as const;
/** Padding (schema.fbs). */
export const Padding = { SAME: 0, VALID: 1 } as const;
/** ActivationFunctionType (schema.fbs). */
export const FusedActivation = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3, TANH: 4, SIGN_BIT: 5 } as const;

/** A table at `pos` in `bb`: typed reads of its fields by schema index. */
class Table {
  constructor(
    protected readonly bb: ByteBuffer,
    protected readonly pos: number,
  ) {}
  /** Offset of field `index` from the table start, 0 when the field is absent. */
  protected field(index: number): number {
    return this.bb.__offset(this.pos, 4 + 2 * index);
  }
  /** Field `index` read by `at` at its position, or `dflt` when absent. */
  private scalar(index: number, dflt: number, at: (pos: number) => number | bigint): number {
    const o = this.field(index);
    return o ? Number(at(this.pos + o)) : dflt;
  }
  protected int32(index: number, dflt = 0): number {
    return this.scalar(index, dflt, (p) => this.bb.readInt32(p));
  }
  protected uint32(index: number, dflt = 0): number {
    return this.scalar(index, dflt, (p) => this.bb.readUint32(p));
  }
  protected int8(index: number, dflt = 0): number {
    return this.scalar(index, dflt, (p) => this.bb.readInt8(p));
  }
  protected uint8(index: number, dflt = 0): number {
    return this.scalar(index, dflt, (p) => this.bb.readUint8(p));
  }
  protected float32(index: number, dflt = 0): number {
    return this.scalar(index, dflt, (p) => this.bb.readFloat32(p));
  }
  protected uint64(index: number, dflt = 0): number {
    return this.scalar(index, dflt, (p) => this.bb.readUint64(p));
  }
  protected string(index: number): string | null {
    const o = this.field(index);
    return o ? (this.bb.__string(this.pos + o) as string) : null;
  }
  protected table<T>(index: number, Ctor: new (bb: ByteBuffer, pos: number) => T): T | null {
    const o = this.field(index);
    return o ? new Ctor(this.bb, this.bb.__indirect(this.pos + o)) : null;
  }
  /** [start, length] of vector field `index`, [0, 0] when absent. */
  private vector(index: number): [number, number] {
    const o = this.field(index);
    return o ? [this.bb.__vector(this.pos + o), this.bb.__vector_len(this.pos + o)] : [0, 0];
  }
  protected tables<T>(index: number, Ctor: new (bb: ByteBuffer, pos: number) => T): T[] {
    const [start, n] = this.vector(index);
    return Array.from({ length: n }, (_, k) => new Ctor(this.bb, this.bb.__indirect(start + 4 * k)));
  }
  /** Vector field `index` of scalars `width` bytes apart, each read by `at`. */
  private scalars(index: number, width: number, at: (pos: number) => number | bigint): number[] {
    const [start, n] = this.vector(index);
    return Array.from({ length: n }, (_, k) => Number(at(start + width * k)));
  }
  protected int32s(index: number): number[] {
    return this.scalars(index, 4, (p) => this.bb.readInt32(p));
  }
  protected float32s(index: number): number[] {
    return this.scalars(index, 4, (p) => this.bb.readFloat32(p));
  }
  protected int64s(index: number): number[] {
    return this.scalars(index, 8, (p) => this.bb.readInt64(p));
  }
  /** A [ubyte] vector as a view into the file (no copy). */
  protected bytes(index: number): Uint8Array {
    const [start, n] = this.vector(index);
    return this.bb.bytes().subarray(start, start + n);
  }
}

/** QuantizationParameters: real = scale·(q − zero_point), per tensor or per slice of `quantizedDimension`. */
export class QuantizationParameters extends Table {
  get min(): number[] { return this.float32s(0); }
  get max(): number[] { return this.float32s(1); }
  get scale(): number[] { return this.float32s(2); }
  get zeroPoint(): number[] { return this.int64s(3); }
  /** The QuantizationDetails union's type (field 4; field 5 is its value): 0 = none. */
  get detailsType(): number { return this.uint8(4); }
  get quantizedDimension(): number { return this.int32(6); }
}

/** Tensor: shape (NHWC for the builtin image ops), element type, buffer index (0 = no data), name. */
export class Tensor extends Table {
  get shape(): number[] { return this.int32s(0); }
  get type(): number { return this.int8(1); }
  get buffer(): number { return this.uint32(2); }
  get name(): string { return this.string(3) ?? ''; }
  get quantization(): QuantizationParameters | null { return this.table(4, QuantizationParameters); }
  /** Sparsity (field 6): set for sparse weights, which this reader refuses. */
  get isSparse(): boolean { return this.field(6) !== 0; }
}

/** Buffer: the bytes of a constant tensor, inside the flatbuffer (`data`) or, for files over 2 GB, at `offset`/`size` from the file start. */
export class Buffer extends Table {
  get data(): Uint8Array { return this.bytes(0); }
  get offset(): number { return this.uint64(1); }
  get size(): number { return this.uint64(2); }
}

/** OperatorCode: the builtin operator is max(deprecated_builtin_code, builtin_code) (schema.fbs: the int8 field 0 kept for old readers, the int32 field 3 since schema 3a). */
export class OperatorCode extends Table {
  get deprecatedBuiltinCode(): number { return this.int8(0); }
  get customCode(): string | null { return this.string(1); }
  get version(): number { return this.int32(2, 1); }
  get builtinCode(): number { return this.int32(3); }
  /** The builtin operator number this code stands for. */
  get code(): number { return Math.max(this.deprecatedBuiltinCode, this.builtinCode); }
}

/** Conv2DOptions (BuiltinOptions type 1). */
export class Conv2DOptions extends Table {
  get padding(): number { return this.int8(0); }
  get strideW(): number { return this.int32(1); }
  get strideH(): number { return this.int32(2); }
  get fusedActivation(): number { return this.int8(3); }
  get dilationW(): number { return this.int32(4, 1); }
  get dilationH(): number { return this.int32(5, 1); }
}
/** DepthwiseConv2DOptions (type 2). */
export class DepthwiseConv2DOptions extends Table {
  get padding(): number { return this.int8(0); }
  get strideW(): number { return this.int32(1); }
  get strideH(): number { return this.int32(2); }
  get depthMultiplier(): number { return this.int32(3); }
  get fusedActivation(): number { return this.int8(4); }
  get dilationW(): number { return this.int32(5, 1); }
  get dilationH(): number { return this.int32(6, 1); }
}
/** Pool2DOptions (type 5), for AVERAGE_POOL_2D and MAX_POOL_2D. */
export class Pool2DOptions extends Table {
  get padding(): number { return this.int8(0); }
  get strideW(): number { return this.int32(1); }
  get strideH(): number { return this.int32(2); }
  get filterWidth(): number { return this.int32(3); }
  get filterHeight(): number { return this.int32(4); }
  get fusedActivation(): number { return this.int8(5); }
}
/** FullyConnectedOptions (type 8). */
export class FullyConnectedOptions extends Table {
  get fusedActivation(): number { return this.int8(0); }
  /** 0 = DEFAULT; the shuffled int8 format is refused. */
  get weightsFormat(): number { return this.int8(1); }
  get keepNumDims(): boolean { return this.uint8(2) !== 0; }
}
/** SoftmaxOptions (type 9). */
export class SoftmaxOptions extends Table {
  get beta(): number { return this.float32(0); }
}
/** ConcatenationOptions (type 10). */
export class ConcatenationOptions extends Table {
  get axis(): number { return this.int32(0); }
  get fusedActivation(): number { return this.int8(1); }
}
/** AddOptions (type 11). */
export class AddOptions extends Table {
  get fusedActivation(): number { return this.int8(0); }
}
/** ReshapeOptions (type 17). */
export class ReshapeOptions extends Table {
  get newShape(): number[] { return this.int32s(0); }
}

/** BuiltinOptions union member numbers (schema.fbs `union BuiltinOptions`, NONE = 0) of the option tables above. */
export const BuiltinOptionsType = { Conv2DOptions: 1, DepthwiseConv2DOptions: 2, Pool2DOptions: 5, FullyConnectedOptions: 8, SoftmaxOptions: 9, ConcatenationOptions: 10, AddOptions: 11, ReshapeOptions: 17 } as const;

/** Operator: an index into Model.operatorCodes, input / output tensor indices (−1 = optional input left out), its options. */
export class Operator extends Table {
  get opcodeIndex(): number { return this.uint32(0); }
  get inputs(): number[] { return this.int32s(1); }
  get outputs(): number[] { return this.int32s(2); }
  /** The BuiltinOptions union's type (field 3). */
  get optionsType(): number { return this.uint8(3); }
  /** The union's value (field 4) read as `Ctor`, or null when absent. */
  options<T>(Ctor: new (bb: ByteBuffer, pos: number) => T): T | null {
    return this.table(4, Ctor);
  }
}

/** SubGraph: tensors, the graph's input and output tensor indices, operators in execution order. */
export class SubGraph extends Table {
  get tensors(): Tensor[] { return this.tables(0, Tensor); }
  get inputs(): number[] { return this.int32s(1); }
  get outputs(): number[] { return this.int32s(2); }
  get operators(): Operator[] { return this.tables(3, Operator); }
  get name(): string { return this.string(4) ?? ''; }
}

/** Model, the root table. */
export class Model extends Table {
  get version(): number { return this.uint32(0); }
  get operatorCodes(): OperatorCode[] { return this.tables(1, OperatorCode); }
  get subgraphs(): SubGraph[] { return this.tables(2, SubGraph); }
  get description(): string { return this.string(3) ?? ''; }
  get buffers(): Buffer[] { return this.tables(4, Buffer); }

  /** The bytes of buffer `index` (inline data, or the out-of-flatbuffer range of a large file). */
  bufferData(index: number): Uint8Array {
    const b = this.buffers[index];
    if (!b) return new Uint8Array(0);
    if (b.offset > 1) return this.bb.bytes().subarray(b.offset, b.offset + b.size);
    return b.data;
  }

  /**
   * The root table of a TFLite file.
   * @throws Error when the bytes do not carry the file identifier "TFL3" at offset 4.
   */
  static fromBytes(bytes: Uint8Array): Model {
    if (bytes.length < 8) throw new Error(`not a TFLite file: ${bytes.length} bytes`);
    const bb = new ByteBuffer(bytes);
    if (!bb.__has_identifier('TFL3')) throw new Error(`not a TFLite file: identifier "${bb.getBufferIdentifier()}", expected "TFL3"`);
    return new Model(bb, bb.readInt32(bb.position()) + bb.position());
  }
}
