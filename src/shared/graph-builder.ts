/**
 * GraphBuilder: how presets (./presets.ts, ./presets-deep.ts) and the architecture editor
 * write a graph ModelSpec node by node.
 */
import { INPUT_NAME, LayerSpecSchema, type LayerSpec, type LayerSpecInput, type ModelSpec, type NodeSpec, type PresetName } from './layers';

export interface PresetOptions {
  inputShape: [number, number, 1 | 3];
  numClasses: number;
  /** Hidden units of the MLP: one or two layers. Default [128]. */
  hiddenUnits?: number[];
  /** Dropout rate before each hidden dense layer (LeNet-5, MLP) or before the classifier (deep presets); 0 = no dropout node. */
  dropoutRate?: number;
  /** Insert batchNormalization after each conv / hidden dense, before its activation (the ResNets always have it). */
  batchNormalization?: boolean;
  /** Width multiplier α of the MobileNet preset (Howard et al. 2017, §3.3), and of the widths of VGG / AlexNet / Inception / ResNet; default per preset (./presets-deep.ts: MobileNet and ResNet 1, Inception 1/2, AlexNet and VGG 1/4). */
  widthMultiplier?: number;
}

/**
 * Builds a graph node by node: each node reads the last one added unless told otherwise,
 * and gets the Keras-style name `<type>_<n>` (n counted per type from 1) unless named.
 */
export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  private readonly counts = new Map<string, number>();
  /** Name of the last node added ('input' before any). */
  last: string = INPUT_NAME;

  /**
   * Append a node; the layer's defaults are filled in by its schema. A config the schema
   * refuses (a dropout rate of 1 typed in a form) is kept as given, so that parsing the
   * spec names its field ("model.nodes[3].layer.rate") instead of failing here.
   * @returns the node's name.
   */
  add(layer: LayerSpecInput, opts: { name?: string; inputs?: string[] } = {}): string {
    const r = LayerSpecSchema.safeParse(layer);
    const parsed = r.success ? r.data : (layer as LayerSpec);
    let name = opts.name;
    if (name === undefined) {
      const n = (this.counts.get(parsed.type) ?? 0) + 1;
      this.counts.set(parsed.type, n);
      name = `${parsed.type}_${n}`;
    }
    this.nodes.push({ name, layer: parsed, inputs: opts.inputs ?? [this.last] });
    this.last = name;
    return name;
  }

  /** The model spec of the nodes added so far (output: the last node). */
  spec(preset: PresetName, opts: PresetOptions): ModelSpec {
    return { preset, inputShape: opts.inputShape, numClasses: opts.numClasses, nodes: [...this.nodes] };
  }
}

