/**
 * Form fields from zod schemas: what a control shows and allows is read from the schema
 * itself — its kind (number, whole number, boolean, enum, discriminated-union choice), bounds
 * (`.min/.gt/.max/.lt`, exclusive or not), step (`.multipleOf` or meta `step`), default
 * (`.default`), options (`z.enum`, literals) — and its words from the schema's metadata
 * (`.meta({ label, unit, description, step, optionLabels })`, set in src/shared/spec.ts and
 * src/shared/layers.ts). A ZodError becomes one plain-words message per issue, named by the
 * field's label and path ("Learning rate: must be greater than 0"). Pure functions; zod 4.
 *
 * Paths are written as src/shared/errors.ts `fieldPath` writes them: "training.optimizer.learningRate",
 * "model.nodes[3].layer.rate".
 * (Just over 400 lines: the descriptor walk and the message mapping read the same zod internals
 * and stay together.)
 */
import { z } from 'zod';
import { fieldPath } from '../../shared/errors';

/** Any zod schema (zod 4 core type). */
export type AnySchema = z.core.$ZodType;
type Issue = z.core.$ZodIssue;

/** The metadata a schema field may carry for forms (`.meta({...})`). */
export interface FieldMeta {
  /** What people call the field ("Learning rate"). */
  label?: string;
  /** The unit shown after the label ("epochs"). */
  unit?: string;
  description?: string;
  /** The step of a number input, where no `.multipleOf` gives one. */
  step?: number;
  /** Words for enum values ({ gpu: 'GPU' }). */
  optionLabels?: Record<string, string>;
  /** Where a form starts a field that has no default (the learning rate of each optimizer). */
  initial?: unknown;
}

export type FieldKind = 'number' | 'integer' | 'boolean' | 'enum' | 'choice' | 'text' | 'other';

export interface FieldOption {
  value: string | number;
  label: string;
}

/** One form control's worth of a schema field. */
export interface FieldDescriptor {
  /** Path from the schema the descriptors were made from (with its prefix): "training.batchSize". */
  path: string;
  /** The last key of the path ("batchSize"; "type" for a union's discriminator is reported on the union's own path). */
  key: string;
  label: string;
  unit?: string;
  description?: string;
  kind: FieldKind;
  /** Lower bound; exclusive when `exclusiveMin` (`.gt`). */
  min?: number;
  exclusiveMin?: boolean;
  max?: number;
  exclusiveMax?: boolean;
  /** Input step: `.multipleOf`, else meta `step`, else 1 for whole numbers and 'any' for the rest. */
  step?: number | 'any';
  /** The schema's `.default(...)` value, if any. */
  default?: unknown;
  /** Where a form starts the field: the default, else meta `initial`; undefined when neither. */
  initial?: unknown;
  /** `.optional()` or has a default: the value may be left out. */
  optional: boolean;
  /** enum values / choice variants, with their words. */
  options?: FieldOption[];
  /** choice (discriminated union): the discriminator key and each variant's fields (paths under this field's path). */
  discriminator?: string;
  variants?: Record<string, FieldDescriptor[]>;
  /** Label of the object the field sits in, below the root ("Augmentation"), for grouping. */
  group?: string;
}

interface Def {
  type: string;
  [k: string]: unknown;
}
const defOf = (s: AnySchema): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The form metadata registered on a schema instance (`.meta()` / `.describe()`). */
export function metaOf(s: AnySchema): FieldMeta {
  return (z.globalRegistry.get(s as never) as FieldMeta | undefined) ?? {};
}

interface Unwrapped {
  schema: AnySchema;
  meta: FieldMeta;
  default?: unknown;
  hasDefault: boolean;
  optional: boolean;
}

/** Peel `.default`, `.optional`, `.prefault`, `.nullable`, `.readonly`; metadata merged with the outer wrappers winning. */
export function unwrap(s: AnySchema): Unwrapped {
  let cur = s;
  let meta: FieldMeta = {};
  let optional = false;
  let hasDefault = false;
  let dflt: unknown;
  for (;;) {
    meta = { ...metaOf(cur), ...meta };
    const d = defOf(cur);
    if (d.type === 'default' || d.type === 'prefault') {
      if (!hasDefault) {
        hasDefault = true;
        dflt = d.defaultValue;
      }
    } else if (d.type === 'optional') optional = true;
    else if (d.type !== 'nullable' && d.type !== 'readonly') break;
    cur = d.innerType as AnySchema;
  }
  return { schema: cur, meta, default: dflt, hasDefault, optional: optional || hasDefault };
}

interface NumberInfo {
  integer: boolean;
  min?: number;
  exclusiveMin?: boolean;
  max?: number;
  exclusiveMax?: boolean;
  multipleOf?: number;
}

/** Bounds of a number schema from its checks (the tightest of each side). */
function numberInfo(s: AnySchema): NumberInfo {
  const d = defOf(s);
  const info: NumberInfo = { integer: typeof d.format === 'string' && /int/.test(d.format) };
  for (const c of (d.checks as AnySchema[] | undefined) ?? []) {
    const cd = defOf(c) as Def & { check?: string; value?: number; inclusive?: boolean; format?: string };
    if (cd.check === 'number_format' && typeof cd.format === 'string' && /int/.test(cd.format)) info.integer = true;
    else if (cd.check === 'greater_than' && typeof cd.value === 'number') {
      if (info.min === undefined || cd.value > info.min || (cd.value === info.min && !cd.inclusive)) {
        info.min = cd.value;
        info.exclusiveMin = !cd.inclusive;
      }
    } else if (cd.check === 'less_than' && typeof cd.value === 'number') {
      if (info.max === undefined || cd.value < info.max || (cd.value === info.max && !cd.inclusive)) {
        info.max = cd.value;
        info.exclusiveMax = !cd.inclusive;
      }
    } else if (cd.check === 'multiple_of' && typeof cd.value === 'number') info.multipleOf = cd.value;
  }
  return info;
}

/** Literal values of a literal, an enum, or a union of literals; null for anything else. */
function literalValues(s: AnySchema): (string | number)[] | null {
  const d = defOf(s);
  if (d.type === 'literal') return (d.values as (string | number)[]).slice();
  if (d.type === 'enum') return Object.values(d.entries as Record<string, string | number>);
  if (d.type === 'union' && !d.discriminator) {
    const all: (string | number)[] = [];
    for (const o of d.options as AnySchema[]) {
      const v = literalValues(unwrap(o).schema);
      if (!v) return null;
      all.push(...v);
    }
    return all;
  }
  return null;
}

const isDiscriminatedUnion = (s: AnySchema): boolean => {
  const d = defOf(s);
  return d.type === 'union' && typeof d.discriminator === 'string';
};

/** The variants of a discriminated union: discriminator value → object schema. */
export function unionVariants(s: AnySchema): { discriminator: string; variants: Map<string, AnySchema> } {
  const d = defOf(unwrap(s).schema);
  if (d.type !== 'union' || typeof d.discriminator !== 'string') throw new Error('unionVariants: not a discriminated union');
  const disc = d.discriminator;
  const variants = new Map<string, AnySchema>();
  for (const o of d.options as AnySchema[]) {
    const shape = defOf(unwrap(o).schema).shape as Record<string, AnySchema>;
    for (const v of literalValues(unwrap(shape[disc]).schema) ?? []) variants.set(String(v), o);
  }
  return { discriminator: disc, variants };
}

/** The shape of an object schema (through wrappers); null when it is not an object. */
export function objectShape(s: AnySchema): Record<string, AnySchema> | null {
  const d = defOf(unwrap(s).schema);
  return d.type === 'object' ? (d.shape as Record<string, AnySchema>) : null;
}

const joinPath = (prefix: string, key: string | number): string => fieldPath(typeof key === 'number' ? [key] : [key], prefix);

/**
 * The descriptor of one field. `key` is the last path segment.
 * Objects, arrays and tuples are kind 'other' here; describeFields walks into objects.
 */
export function describeField(s: AnySchema, path: string, key: string): FieldDescriptor {
  const u = unwrap(s);
  const d = defOf(u.schema);
  const base: FieldDescriptor = { path, key, label: u.meta.label ?? key, kind: 'other', optional: u.optional };
  if (u.meta.unit) base.unit = u.meta.unit;
  if (u.meta.description) base.description = u.meta.description;
  if (u.hasDefault) base.default = u.default;
  const initial = u.hasDefault ? u.default : u.meta.initial;
  if (initial !== undefined) base.initial = initial;
  if (d.type === 'number') {
    const n = numberInfo(u.schema);
    base.kind = n.integer ? 'integer' : 'number';
    if (n.min !== undefined) Object.assign(base, { min: n.min, exclusiveMin: !!n.exclusiveMin });
    if (n.max !== undefined) Object.assign(base, { max: n.max, exclusiveMax: !!n.exclusiveMax });
    base.step = n.multipleOf ?? u.meta.step ?? (n.integer ? 1 : 'any');
    return base;
  }
  if (d.type === 'boolean') return { ...base, kind: 'boolean' };
  if (d.type === 'string') return { ...base, kind: 'text' };
  if (isDiscriminatedUnion(u.schema)) {
    const { discriminator, variants } = unionVariants(u.schema);
    const options: FieldOption[] = [];
    const fields: Record<string, FieldDescriptor[]> = {};
    for (const [value, variant] of variants) {
      options.push({ value, label: unwrap(variant).meta.label ?? value });
      fields[value] = describeFields(variant, path).filter((f) => f.key !== discriminator);
    }
    return { ...base, kind: 'choice', discriminator, options, variants: fields };
  }
  const values = literalValues(u.schema);
  if (values) {
    const words = u.meta.optionLabels ?? {};
    return { ...base, kind: 'enum', options: values.map((v) => ({ value: v, label: words[String(v)] ?? String(v) })) };
  }
  return base;
}

/**
 * Descriptors of an object schema's fields, in declaration order, with paths under `prefix`.
 * Nested objects are walked into (their fields carry `group`, the object's label); tuples of
 * scalars give one descriptor per element ("model.inputShape[0]"); a discriminated union is one
 * 'choice' descriptor holding its variants' fields.
 */
export function describeFields(s: AnySchema, prefix = ''): FieldDescriptor[] {
  const shape = objectShape(s);
  if (!shape) throw new Error('describeFields: not an object schema');
  const out: FieldDescriptor[] = [];
  for (const [key, child] of Object.entries(shape)) {
    const path = joinPath(prefix, key);
    const u = unwrap(child);
    const d = defOf(u.schema);
    if (d.type === 'object') {
      const label = u.meta.label ?? key;
      for (const f of describeFields(u.schema, path)) out.push({ ...f, group: f.group ?? label });
    } else if (d.type === 'tuple') {
      (d.items as AnySchema[]).forEach((item, i) => out.push(describeField(item, `${path}[${i}]`, String(i))));
    } else out.push(describeField(child, path, key));
  }
  return out;
}

type Segment = string | number;

/** Split "model.nodes[3].layer.rate" into ['model', 'nodes', 3, 'layer', 'rate']. */
export function splitPath(path: string): Segment[] {
  const out: Segment[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1]) out.push(m[1]);
    for (const idx of m[2].match(/\d+/g) ?? []) out.push(Number(idx));
  }
  return out;
}

const child = (data: unknown, key: Segment): unknown => (data !== null && typeof data === 'object' ? (data as Record<string, unknown>)[key as string] : undefined);

/**
 * The schemas met along a path from `root`, outermost first (the root included, and the
 * variant entered at each discriminated union: the one `data`, the value being checked,
 * names, else the first that has the next key), and how many path segments were followed
 * (less than the path's length where it leaves the schema).
 */
export function schemasAlong(root: AnySchema, path: readonly Segment[], data?: unknown): { along: AnySchema[]; reached: number } {
  const along: AnySchema[] = [root];
  let cur: AnySchema = root;
  let value = data;
  let reached = 0;
  for (const seg of path) {
    let u = unwrap(cur).schema;
    if (isDiscriminatedUnion(u)) {
      const { discriminator, variants } = unionVariants(u);
      if (seg === discriminator) {
        // The discriminator is the union's own choice: the union stands for it.
        reached++;
        break;
      }
      const chosen = variants.get(String(child(value, discriminator))) ?? [...variants.values()].find((v) => objectShape(v)?.[seg as string] !== undefined);
      if (!chosen) break;
      along.push(chosen);
      u = unwrap(chosen).schema;
    }
    const d = defOf(u);
    let next: AnySchema | undefined;
    if (d.type === 'object') next = (d.shape as Record<string, AnySchema>)[seg as string];
    else if (d.type === 'array') next = d.element as AnySchema;
    else if (d.type === 'tuple' && typeof seg === 'number') next = (d.items as AnySchema[])[seg];
    if (!next) break;
    along.push(next);
    reached++;
    cur = next;
    value = child(value, seg);
  }
  return { along, reached };
}

/** The schema at a path (see schemasAlong), or null when the path is not in the schema. */
export function schemaAt(root: AnySchema, path: string | readonly Segment[], data?: unknown): AnySchema | null {
  const segs = typeof path === 'string' ? splitPath(path) : path;
  const { along, reached } = schemasAlong(root, segs, data);
  return reached === segs.length ? along[along.length - 1] : null;
}

/** The descriptor of the field at a path (null when the path is not in the schema); `prefix` goes before the descriptor's path. */
export function fieldAt(root: AnySchema, path: string | readonly Segment[], data?: unknown, prefix = ''): FieldDescriptor | null {
  const segs = typeof path === 'string' ? splitPath(path) : path;
  const s = schemaAt(root, segs, data);
  if (!s || segs.length === 0) return null;
  return describeField(s, fieldPath(segs, prefix), String(segs[segs.length - 1]));
}

/** The label of the field at a path, else of the nearest labelled schema above it (a union variant's label names the variant: "Dropout"); null when none has one. */
export function labelAt(root: AnySchema, path: string | readonly Segment[], data?: unknown): string | null {
  const segs = typeof path === 'string' ? splitPath(path) : path;
  const { along } = schemasAlong(root, segs, data);
  for (let i = along.length - 1; i >= 0; i--) {
    const label = unwrap(along[i]).meta.label;
    if (label) return label;
  }
  return null;
}

const num = (v: number): string => String(v);
const quoteList = (vs: readonly unknown[]): string => vs.map((v) => (typeof v === 'string' ? `"${v}"` : String(v))).join(', ');

/**
 * A zod issue in plain words ("must be a whole number ≥ 1", "must be less than 1", "enter a
 * number"), reading whether the field takes whole numbers from `field`.
 */
export function issueText(issue: Issue, field: FieldDescriptor | null): string {
  const whole = field?.kind === 'integer';
  const a = issue as Issue & Record<string, unknown>;
  switch (issue.code) {
    case 'too_small':
    case 'too_big': {
      const big = issue.code === 'too_big';
      const bound = Number(big ? a.maximum : a.minimum);
      if (a.origin === 'number' || a.origin === 'int') {
        const rel = a.inclusive ? (big ? '≤' : '≥') : big ? 'less than' : 'greater than';
        return `${whole || a.origin === 'int' ? 'must be a whole number' : 'must be'} ${rel} ${num(bound)}`;
      }
      const what = a.origin === 'array' || a.origin === 'set' ? (bound === 1 ? 'entry' : 'entries') : a.origin === 'string' ? (bound === 1 ? 'character' : 'characters') : 'items';
      return `needs ${big ? 'at most' : 'at least'} ${num(bound)} ${what}`;
    }
    case 'invalid_type': {
      const expected = String(a.expected);
      const received = /received (\w+)/.exec(issue.message)?.[1];
      if (expected === 'int' && received === 'number') return 'must be a whole number';
      if (expected === 'number' || expected === 'int') return whole || expected === 'int' ? 'enter a whole number' : 'enter a number';
      if (received === 'undefined') return 'is required';
      if (expected === 'boolean') return 'must be true or false';
      return `must be ${/^[aeiou]/.test(expected) ? 'an' : 'a'} ${expected}${received ? `, not ${received}` : ''}`;
    }
    case 'invalid_value': {
      const values = (a.values as unknown[]) ?? [];
      const words = field?.options ? values.map((v) => field.options?.find((o) => o.value === v)?.label ?? v) : values;
      return values.length === 1 ? `must be ${quoteList(words)}` : `must be one of ${quoteList(words)}`;
    }
    case 'invalid_union':
      if (typeof a.discriminator === 'string') {
        const opts = (a.options as unknown[] | undefined) ?? [];
        return `unknown ${a.discriminator}; choose one of ${quoteList(opts)}`;
      }
      return 'matches none of the allowed forms';
    case 'unrecognized_keys': {
      const keys = (a.keys as string[]) ?? [];
      return `unknown field${keys.length === 1 ? '' : 's'} ${quoteList(keys)}`;
    }
    case 'not_multiple_of':
      return `must be a multiple of ${num(Number(a.divisor))}`;
    default:
      return issue.message;
  }
}

/** One field's problem, as a form shows it. */
export interface FieldIssue {
  /** Path of the field ("training.batchSize"), with the prefix. */
  path: string;
  /** The field's label ("Batch size"), else the nearest labelled parent's, else the path. */
  label: string;
  /** The problem in plain words ("must be a whole number ≥ 1"). */
  text: string;
  /** The field's descriptor, when the path is a field of the schema. */
  field: FieldDescriptor | null;
}

/**
 * A ZodError from parsing `data` with `root` as one FieldIssue per zod issue, labelled from
 * the schema's metadata: "Learning rate" + "must be greater than 0" at
 * "training.optimizer.learningRate". `prefix` is put before every path (e.g. 'spec').
 */
export function zodIssues(err: z.ZodError, root: AnySchema, data?: unknown, prefix = ''): FieldIssue[] {
  return err.issues.map((issue) => {
    const segs = issue.path as Segment[];
    const path = fieldPath(segs, prefix);
    const field = fieldAt(root, segs, data, prefix);
    const label = labelAt(root, segs, data) ?? (path || '(root)');
    return { path, label, text: issueText(issue, field), field };
  });
}
