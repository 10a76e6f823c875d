/**
 * The naming rules of the folder importer: which folder names are split folders
 * (`splitOfName`), and labels from file names (`compileLabelPattern`). Pure functions,
 * no file system.
 */
import type { Split } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import { classNameProblem } from '../../shared/class-name';

/** Split stems after normalisation (lower case, separators removed, a trailing `set`/`data`/… removed). */
const SPLIT_STEMS: Record<string, Split> = {
  train: 'train',
  training: 'train',
  val: 'val',
  valid: 'val',
  validation: 'val',
  dev: 'val',
  test: 'test',
  testing: 'test',
};
/** Words a split folder's name may end with: `training_set`, `train-data`, `val images`, `testSplit`. */
const SPLIT_SUFFIXES = ['set', 'split', 'data', 'images', 'imgs', 'samples'];

/**
 * The split a folder name stands for, or null. Case-insensitive; the separators `-`,
 * `_`, `.`, space (or none) between the split word and a trailing `set` / `split` /
 * `data` / `images` are ignored: `train`, `Training`, `training_set`, `train-set`,
 * `trainset`, `TRAIN SET` → 'train'; `val`, `valid`, `validation`, `validation_set`,
 * `dev`, `dev-set` → 'val'; `test`, `testing`, `test_set`, `testset` → 'test'.
 */
export function splitOfName(name: string): Split | null {
  let s = name.toLowerCase().replace(/[\s._-]+/g, '');
  if (SPLIT_STEMS[s]) return SPLIT_STEMS[s];
  for (const suffix of SPLIT_SUFFIXES) {
    if (s.length > suffix.length && s.endsWith(suffix)) {
      s = s.slice(0, -suffix.length);
      return SPLIT_STEMS[s] ?? null;
    }
  }
  return null;
}

/** A compiled file-name label pattern. */
export interface LabelPattern {
  /** The pattern as the user gave it. */
  source: string;
  /** The regular expression tried on each file's base name (with its extension). */
  regex: RegExp;
  /** The class name for a file's base name, or null when the name does not match (or the label is not a valid class name). */
  labelOf(fileName: string): string | null;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Compile a label pattern. Either a template with `{label}` (the class name, shortest
 * match) and optionally `{n}` (digits) and `{*}` (anything), matched against the whole
 * file name with its extension left off — `{label}_{n}` reads `seven_123.png` as
 * `seven`, `{label}.{n}` reads `cat.123.jpg` as `cat` — or a regular expression with a
 * named group `label`, searched in the file name (extension included):
 * `^(?<label>[a-z]+)\d+`.
 * @throws ApiError invalid_params, field `labelPattern`, when the regex is invalid or has no `label` group.
 */
export function compileLabelPattern(pattern: string): LabelPattern {
  const source = pattern.trim();
  if (!source) throw new ApiError('invalid_params', 'labelPattern: empty; give a template such as {label}_{n} or a regular expression with a (?<label>…) group', 'labelPattern');
  let regex: RegExp;
  if (source.includes('{label}')) {
    if (source.split('{label}').length > 2) throw new ApiError('invalid_params', `labelPattern: "${source}" names {label} more than once`, 'labelPattern');
    const body = source
      .split(/(\{label\}|\{n\}|\{\*\})/)
      .map((part) => (part === '{label}' ? '(?<label>.+?)' : part === '{n}' ? '\\d+' : part === '{*}' ? '.*?' : escapeRe(part)))
      .join('');
    regex = new RegExp(`^${body}(?:\\.[^.]*)?$`, 'u');
  } else {
    try {
      regex = new RegExp(source, 'u');
    } catch (err) {
      throw new ApiError('invalid_params', `labelPattern: not a valid regular expression: ${(err as Error).message}`, 'labelPattern');
    }
    if (!/\(\?<label>/.test(source)) throw new ApiError('invalid_params', `labelPattern: "${source}" has no named group (?<label>…) and no {label}; e.g. {label}_{n} or ^(?<label>[a-z]+)_\\d+`, 'labelPattern');
  }
  return {
    source,
    regex,
    labelOf(fileName: string): string | null {
      const label = regex.exec(fileName)?.groups?.label?.trim();
      if (!label || label.length > 100 || classNameProblem(label)) return null;
      return label;
    },
  };
}

/** Templates the preview tries on unlabelled files to suggest one. */
export const SUGGESTED_TEMPLATES = ['{label}.{n}', '{label}_{n}', '{label}-{n}', '{label} ({n})'];
