/**
 * What was typed, as a prefix of the keys the "find a record to link" searches match (GET
 * /accounts?q=, /contacts?q=; normalised-keys.ts in src/shared/): leading white space dropped,
 * runs collapsed, lower-cased. A trailing space is kept (as one): "acme " must not find "Acmeco".
 * Null when nothing but white space was typed.
 */
export function searchPrefix(q: string): string | null {
  const prefix = q.replace(/^\s+/, '').replace(/\s+/g, ' ').toLowerCase();
  return prefix ? prefix : null;
}

/**
 * The least string greater than every string that starts with `prefix`, in code point order (the
 * order of SQLite's BINARY collation and of PostgreSQL's "C" on UTF-8): `key >= prefix AND key <
 * bound` is then a prefix match one index range scan answers. Null when no bound exists (the prefix
 * is all U+10FFFF).
 */
export function prefixUpperBound(prefix: string): string | null {
  const points = [...prefix].map((c) => c.codePointAt(0) ?? 0);
  let last = points.pop();
  while (last === 0x10ffff) last = points.pop();
  if (last === undefined) return null;
  // Surrogate code points are not characters: no key holds one, so skip past them.
  const next = last + 1 >= 0xd800 && last + 1 <= 0xdfff ? 0xe000 : last + 1;
  return String.fromCodePoint(...points, next);
}
