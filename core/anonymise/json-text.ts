/**
 * JSON for anonymising json/jsonb values without changing what is not anonymised: numbers keep
 * their exact text (JSON.parse would round 12345678901234567890 and 1.10), and a small JSONPath
 * subset addresses the values to replace.
 */
export class JsonNumber {
  constructor(readonly raw: string) {}
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

export function parseJson(text: string): JsonValue {
  let position = 0;
  const fail = (): never => {
    throw new SyntaxError(`invalid JSON at offset ${position}`);
  };
  const space = () => {
    while (position < text.length && ' \t\n\r'.includes(text[position] as string)) position++;
  };
  const value = (): JsonValue => {
    space();
    const char = text[position];
    if (char === '{') {
      position++;
      const object: JsonObject = new Map();
      space();
      if (text[position] === '}') {
        position++;
        return object;
      }
      for (;;) {
        space();
        if (text[position] !== '"') fail();
        const key = string();
        space();
        if (text[position] !== ':') fail();
        position++;
        object.set(key, value());
        space();
        if (text[position] === ',') {
          position++;
          continue;
        }
        if (text[position] === '}') {
          position++;
          return object;
        }
        fail();
      }
    }
    if (char === '[') {
      position++;
      const array: JsonValue[] = [];
      space();
      if (text[position] === ']') {
        position++;
        return array;
      }
      for (;;) {
        array.push(value());
        space();
        if (text[position] === ',') {
          position++;
          continue;
        }
        if (text[position] === ']') {
          position++;
          return array;
        }
        fail();
      }
    }
    if (char === '"') return string();
    if (text.startsWith('true', position)) {
      position += 4;
      return true;
    }
    if (text.startsWith('false', position)) {
      position += 5;
      return false;
    }
    if (text.startsWith('null', position)) {
      position += 4;
      return null;
    }
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(position, position + 400));
    if (!match) return fail();
    position += match[0].length;
    return new JsonNumber(match[0]);
  };
  const string = (): string => {
    const start = position;
    position++;
    let simple = true;
    while (position < text.length && text[position] !== '"') {
      if (text[position] === '\\') {
        simple = false;
        position++;
      }
      position++;
    }
    position++;
    const literal = text.slice(start, position);
    return simple ? literal.slice(1, -1) : (JSON.parse(literal) as string);
  };
  const result = value();
  space();
  if (position !== text.length) fail();
  return result;
}

/** JSON text in the style jsonb prints (`{"a": 1, "b": [1, 2]}`). */
export function formatJson(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof JsonNumber) return value.raw;
  if (Array.isArray(value)) return `[${value.map(formatJson).join(', ')}]`;
  return `{${[...value].map(([key, item]) => `${JSON.stringify(key)}: ${formatJson(item)}`).join(', ')}}`;
}

type PathSegment =
  | { readonly type: 'key'; readonly name: string }
  | { readonly type: 'index'; readonly index: number }
  | { readonly type: 'wildcard' }
  | { readonly type: 'descend'; readonly name: string | null };

export interface JsonPath {
  readonly text: string;
  readonly segments: readonly PathSegment[];
}

/**
 * Compiles `$.a.b`, `$['a b']`, `$.items[*].email`, `$.list[0]`, `$.*` and `$..email`
 * (any depth). Throws a SyntaxError naming the path when it is not one of these.
 */
export function compileJsonPath(text: string): JsonPath {
  if (!text.startsWith('$')) throw new SyntaxError(`JSON path ${text} must start with $`);
  const segments: PathSegment[] = [];
  let rest = text.slice(1);
  const forms: readonly [RegExp, (match: RegExpExecArray) => PathSegment][] = [
    [
      /^\.\.([A-Za-z_$][\w$-]*|\*)/,
      (m) => ({ type: 'descend', name: m[1] === '*' ? null : (m[1] as string) }),
    ],
    [/^\.([A-Za-z_$][\w$-]*)/, (m) => ({ type: 'key', name: m[1] as string })],
    [/^(?:\.\*|\[\*\])/, () => ({ type: 'wildcard' })],
    [/^\[(\d+)\]/, (m) => ({ type: 'index', index: Number(m[1]) })],
    [
      /^\[(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\]/,
      (m) => ({ type: 'key', name: (m[1] ?? m[2] ?? '').replace(/\\(.)/g, '$1') }),
    ],
  ];
  while (rest.length > 0) {
    let matched = false;
    for (const [pattern, build] of forms) {
      const match = pattern.exec(rest);
      if (!match) continue;
      segments.push(build(match));
      rest = rest.slice(match[0].length);
      matched = true;
      break;
    }
    if (!matched) throw new SyntaxError(`JSON path ${text} is not supported near "${rest.slice(0, 12)}"`);
  }
  return { text, segments };
}

/** Replaces every node the path matches with fn(node); returns the (possibly new) root. */
export function updateJsonPath(
  root: JsonValue,
  path: JsonPath,
  fn: (node: JsonValue) => JsonValue,
): JsonValue {
  const visit = (node: JsonValue, index: number): JsonValue => {
    if (index === path.segments.length) return fn(node);
    const segment = path.segments[index] as PathSegment;
    switch (segment.type) {
      case 'key':
        if (node instanceof Map && node.has(segment.name)) {
          node.set(segment.name, visit(node.get(segment.name) as JsonValue, index + 1));
        }
        return node;
      case 'index':
        if (Array.isArray(node) && segment.index < node.length) {
          node[segment.index] = visit(node[segment.index] as JsonValue, index + 1);
        }
        return node;
      case 'wildcard':
        if (Array.isArray(node))
          for (let i = 0; i < node.length; i++) node[i] = visit(node[i] as JsonValue, index + 1);
        else if (node instanceof Map) for (const [key, item] of node) node.set(key, visit(item, index + 1));
        return node;
      case 'descend': {
        const descend = (current: JsonValue): JsonValue => {
          if (Array.isArray(current)) {
            for (let i = 0; i < current.length; i++) current[i] = descend(current[i] as JsonValue);
          } else if (current instanceof Map) {
            for (const [key, item] of current) {
              let next = descend(item);
              if (segment.name === null || key === segment.name) next = visit(next, index + 1);
              current.set(key, next);
            }
          }
          return current;
        };
        return descend(node);
      }
    }
  };
  return visit(root, 0);
}

/** Every scalar leaf with its path (array positions as [*]), for classifying JSON contents. */
export function jsonLeaves(root: JsonValue): { path: string; key: string | null; value: JsonValue }[] {
  const leaves: { path: string; key: string | null; value: JsonValue }[] = [];
  const walk = (node: JsonValue, path: string, key: string | null) => {
    if (Array.isArray(node)) for (const item of node) walk(item, `${path}[*]`, key);
    else if (node instanceof Map) {
      for (const [name, item] of node) {
        walk(
          item,
          /^[A-Za-z_$][\w$]*$/.test(name)
            ? `${path}.${name}`
            : `${path}[${JSON.stringify(name).replaceAll('"', "'")}]`,
          name,
        );
      }
    } else leaves.push({ path, key, value: node });
  };
  walk(root, '$', null);
  return leaves;
}

/** `before` with every leaf that differs in `after` (same shape) replaced by null. */
export function unchangedLeaves(before: JsonValue, after: JsonValue): JsonValue {
  if (Array.isArray(before)) {
    return before.map((item, index) =>
      unchangedLeaves(item, Array.isArray(after) ? (after[index] ?? null) : null),
    );
  }
  if (before instanceof Map) {
    const result: JsonObject = new Map();
    for (const [key, item] of before) {
      result.set(key, unchangedLeaves(item, after instanceof Map ? (after.get(key) ?? null) : null));
    }
    return result;
  }
  const same =
    before instanceof JsonNumber ? after instanceof JsonNumber && after.raw === before.raw : before === after;
  return same ? before : null;
}
