/**
 * `--set PATH=VALUE` for `layerwise train` (and any command that starts from a run spec):
 * any spec path, e.g. `training.optimizer.learningRate=0.01`, `model.nodes[3].layer.filters=32`,
 * `training.earlyStopping.patience=3`, `seed=7`. VALUE is read as JSON when it parses
 * (numbers, true/false, null, objects, arrays, quoted strings), else as a plain string
 * (`training.learningRateSchedule.type=cosine`). The spec is validated afterwards; its
 * errors name the path (parseRunSpec), and one about a path set here says so.
 */
import { ApiError, SpecError } from '../../shared/errors';

/** One parsed `--set`: the path as written, its segments (keys and array indices), the value. */
export interface SpecSet {
  path: string;
  segments: (string | number)[];
  value: unknown;
}

/**
 * Parse `PATH=VALUE`. Segments: `a.b[2].c` → ['a', 'b', 2, 'c'].
 * @throws ApiError invalid_params (field 'set') naming the argument when there is no `=`, or the path is malformed.
 */
export function parseSet(arg: string): SpecSet {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new ApiError('invalid_params', `--set ${arg}: expected PATH=VALUE (e.g. training.optimizer.learningRate=0.01)`, 'set');
  const path = arg.slice(0, eq).trim();
  const text = arg.slice(eq + 1);
  if (!/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*|\[\d+\])*$/.test(path))
    throw new ApiError('invalid_params', `--set ${arg}: "${path}" is not a spec path (keys joined by dots, array indices in brackets: model.nodes[3].layer.filters)`, 'set');
  const segments = [...path.matchAll(/([A-Za-z_$][\w$]*)|\[(\d+)\]/g)].map((m) => (m[1] !== undefined ? m[1] : Number(m[2])));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = text;
  }
  return { path, segments, value };
}

/**
 * A copy of `spec` with every set applied in order (objects and arrays along a path are
 * copied, missing objects created). Not validated: parse the result with parseRunSpec.
 * @throws ApiError invalid_params (field: the path) when a path runs through a value that is
 *   not an object or array, or indexes past an array's end.
 */
export function applySets(spec: Record<string, unknown>, sets: readonly SpecSet[]): Record<string, unknown> {
  const root: Record<string, unknown> = structuredClone(spec);
  for (const s of sets) {
    let node: Record<string | number, unknown> = root;
    for (let i = 0; i < s.segments.length - 1; i++) {
      const k = s.segments[i];
      let next = node[k];
      if (next === undefined && typeof k === 'string') node[k] = next = {};
      if (typeof next !== 'object' || next === null) throw new ApiError('invalid_params', `--set ${s.path}: ${pathOf(s.segments.slice(0, i + 1))} is ${JSON.stringify(next)}, not an object`, s.path);
      node = next as Record<string | number, unknown>;
    }
    const key = s.segments[s.segments.length - 1];
    if (typeof key === 'number' && (!Array.isArray(node) || key > node.length)) throw new ApiError('invalid_params', `--set ${s.path}: index ${key} is past the end of ${pathOf(s.segments.slice(0, -1))}`, s.path);
    node[key] = s.value;
  }
  return root;
}

const pathOf = (segments: readonly (string | number)[]): string => segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');

/**
 * Run `check` (parseRunSpec or a wrapper) on the set spec; a SpecError about a path that one
 * of the sets wrote (or lies inside or above it) is prefixed with that `--set` argument.
 */
export function checkWithSets<T>(sets: readonly SpecSet[], check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (!(e instanceof SpecError) || !e.field) throw e;
    const f = e.field;
    const hit = sets.find((s) => f === s.path || f.startsWith(`${s.path}.`) || f.startsWith(`${s.path}[`) || s.path.startsWith(`${f}.`) || s.path.startsWith(`${f}[`));
    throw hit ? new SpecError(`--set ${hit.path}=${JSON.stringify(hit.value)}: ${e.message}`, e.field) : e;
  }
}
