import type { TextValue } from '../source/source.js';

/** An array value as PostgreSQL prints it: elements, or nested arrays for more dimensions. */
export type PgArray = (TextValue | PgArray)[];

/**
 * Parses an array in text output format (`{a,"b c",NULL}`, `{{1,2},{3,4}}`, optionally with a
 * `[1:2]=` bounds prefix, which is returned to be written back).
 */
export function parsePgArray(text: string): { bounds: string; elements: PgArray } {
  let position = 0;
  let bounds = '';
  if (text.startsWith('[')) {
    const equals = text.indexOf('=');
    bounds = text.slice(0, equals + 1);
    position = equals + 1;
  }
  const parseLevel = (): PgArray => {
    if (text[position] !== '{') throw new Error('array text must start with {');
    position++;
    const items: PgArray = [];
    if (text[position] === '}') {
      position++;
      return items;
    }
    for (;;) {
      const char = text[position];
      if (char === '{') {
        items.push(parseLevel());
      } else if (char === '"') {
        position++;
        let value = '';
        while (position < text.length && text[position] !== '"') {
          if (text[position] === '\\') position++;
          value += text[position];
          position++;
        }
        position++;
        items.push(value);
      } else {
        const start = position;
        while (position < text.length && text[position] !== ',' && text[position] !== '}') position++;
        const raw = text.slice(start, position).trim();
        items.push(raw === 'NULL' ? null : raw);
      }
      if (text[position] === ',') {
        position++;
        continue;
      }
      if (text[position] === '}') {
        position++;
        return items;
      }
      throw new Error('malformed array text');
    }
  };
  return { bounds, elements: parseLevel() };
}

export function formatPgArray(bounds: string, elements: PgArray): string {
  const format = (items: PgArray): string =>
    `{${items.map((item) => (Array.isArray(item) ? format(item) : formatElement(item))).join(',')}}`;
  return bounds + format(elements);
}

function formatElement(value: TextValue): string {
  if (value === null) return 'NULL';
  if (value === '' || /[{},"\\\s]/.test(value) || value.toUpperCase() === 'NULL') {
    return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  }
  return value;
}

/** Applies `fn` to every element, keeping the shape. */
export function mapPgArray(elements: PgArray, fn: (value: TextValue) => TextValue): PgArray {
  return elements.map((item) => (Array.isArray(item) ? mapPgArray(item, fn) : fn(item)));
}

/** Every element, flattened. */
export function pgArrayElements(elements: PgArray): TextValue[] {
  return elements.flatMap((item) => (Array.isArray(item) ? pgArrayElements(item) : [item]));
}
