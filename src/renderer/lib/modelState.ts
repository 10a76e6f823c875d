/**
 * The New-run page's model state helpers: comparing two model specs by content, and keeping
 * an edited model in step with the dataset (input shape, class count). Pure functions.
 */
import type { ModelSpec } from '../../shared/spec';

/** JSON with object keys sorted, so that two specs written in another key order compare equal. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
}

/** True when two model specs hold the same nodes, shapes and preset (key order ignored). */
export function sameModel(a: ModelSpec, b: ModelSpec): boolean {
  return canonical(a) === canonical(b);
}

/**
 * An edited model following the dataset: its input shape and class count become the given
 * ones, and an output node that is a dense layer with the old class count as units gets the
 * new count. Returns `model` itself when nothing changes.
 */
export function followDataset(model: ModelSpec, inputShape: ModelSpec['inputShape'], numClasses: number): ModelSpec {
  const sameShape = model.inputShape.join() === inputShape.join();
  if (sameShape && model.numClasses === numClasses) return model;
  const next: ModelSpec = { ...model, inputShape: [...inputShape] as ModelSpec['inputShape'], numClasses };
  if (model.nodes && model.numClasses !== numClasses) {
    const out = model.output ?? model.nodes[model.nodes.length - 1]?.name;
    next.nodes = model.nodes.map((node) => (node.name === out && node.layer.type === 'dense' && node.layer.units === model.numClasses ? { ...node, layer: { ...node.layer, units: numClasses } } : node));
  }
  return next;
}
