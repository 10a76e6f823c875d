/**
 * Reading and writing form values by spec path, and switching a discriminated-union field
 * to another variant. Pure functions over plain (or reactive) objects.
 */
import { splitPath, type FieldDescriptor } from './schemaForm';

/**
 * The value of a discriminated-union field after switching it to variant `type`: each of the
 * new variant's fields keeps the value typed for the old variant when the user changed it
 * from where the form started it, else starts at the new variant's `initial` (default or meta).
 */
export function switchVariant(field: FieldDescriptor, prev: Record<string, unknown>, type: string): Record<string, unknown> {
  const disc = field.discriminator ?? 'type';
  const before = new Map((field.variants?.[String(prev[disc])] ?? []).map((f) => [f.key, f]));
  const out: Record<string, unknown> = { [disc]: type };
  for (const f of field.variants?.[type] ?? []) {
    const old = before.get(f.key);
    const changed = old !== undefined && f.key in prev && prev[f.key] !== old.initial;
    out[f.key] = changed ? prev[f.key] : (f.initial ?? '');
  }
  return out;
}

/** Read a value at a dotted path ("training.optimizer.learningRate"). */
export function getPath(root: unknown, path: string): unknown {
  let cur = root;
  for (const seg of splitPath(path)) cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg as string] : undefined;
  return cur;
}
/** Write a value at a dotted path; the objects on the way must exist. */
export function setPath(root: object, path: string, value: unknown): void {
  const segs = splitPath(path);
  let cur = root as Record<string | number, unknown>;
  for (const seg of segs.slice(0, -1)) cur = cur[seg] as Record<string | number, unknown>;
  cur[segs[segs.length - 1]] = value;
}
