/**
 * What a class name may hold. Names travel into SQLite, JSON, file names of exports, the
 * terminal and the UI: control characters (C0, DEL, C1: Unicode category Cc) and unpaired
 * UTF-16 surrogates (text that is not valid Unicode and cannot be encoded as UTF-8) are refused.
 */

const CONTROL = /\p{Cc}/u;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `name` cannot be a class name, or null when it can (length limits are the schema's). */
export function classNameProblem(name: string): string | null {
  const c = CONTROL.exec(name);
  if (c) return `contains a control character (U+${c[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at position ${c.index + 1}); use letters, digits, spaces and punctuation`;
  const s = LONE_SURROGATE.exec(name);
  if (s) return `is not valid Unicode (an unpaired UTF-16 surrogate U+${s[0].charCodeAt(0).toString(16).toUpperCase()} at position ${s.index + 1})`;
  return null;
}
