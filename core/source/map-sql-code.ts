/**
 * Rewrites the code of a SQL statement and leaves its string literals (plain, E'', dollar-quoted),
 * quoted identifiers and comments untouched: `rewrite` sees only the stretches between them.
 * Used to renumber parameter placeholders, which must not change inside a literal, and to read a
 * statement's structure with its literals blanked out.
 */
export function mapSqlCode(
  sql: string,
  rewrite: (code: string) => string,
  /** What to put in place of each literal, quoted identifier or comment (default: itself). */
  opaque: (text: string) => string = (text) => text,
): string {
  let out = '';
  let code = '';
  let i = 0;
  const flush = () => {
    out += rewrite(code);
    code = '';
  };
  while (i < sql.length) {
    const rest = sql.slice(i);
    const end = opaqueEnd(sql, i, rest);
    if (end === undefined) {
      code += sql[i];
      i++;
      continue;
    }
    flush();
    out += opaque(sql.slice(i, end));
    i = end;
  }
  flush();
  return out;
}

/** End of the literal, identifier or comment starting at `i`, or undefined when `i` is code. */
function opaqueEnd(sql: string, i: number, rest: string): number | undefined {
  const char = sql[i];
  if (rest.startsWith('--')) {
    const newline = sql.indexOf('\n', i);
    return newline === -1 ? sql.length : newline;
  }
  if (rest.startsWith('/*')) {
    // PostgreSQL block comments nest.
    let depth = 0;
    let j = i;
    while (j < sql.length) {
      if (sql.startsWith('/*', j)) {
        depth++;
        j += 2;
      } else if (sql.startsWith('*/', j)) {
        depth--;
        j += 2;
        if (depth === 0) return j;
      } else j++;
    }
    return sql.length;
  }
  if (char === "'" || char === '"') {
    const escapes = char === "'" && i > 0 && /[eE]/.test(sql[i - 1] ?? '') && !/\w/.test(sql[i - 2] ?? '');
    let j = i + 1;
    while (j < sql.length) {
      if (escapes && sql[j] === '\\') j += 2;
      else if (sql[j] === char && sql[j + 1] === char) j += 2;
      else if (sql[j] === char) return j + 1;
      else j++;
    }
    return sql.length;
  }
  if (char === '$' && !/\w/.test(sql[i - 1] ?? '')) {
    const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(rest)?.[0];
    if (tag === undefined) return undefined;
    const close = sql.indexOf(tag, i + tag.length);
    return close === -1 ? sql.length : close + tag.length;
  }
  return undefined;
}
