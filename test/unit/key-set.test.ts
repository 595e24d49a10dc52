import { describe, expect, it } from 'vitest';
import { decodeKey, encodeKey, KeySet } from '../../core/subset/key-set.js';
import { arrayLiteral } from '../../core/subset/row-identity.js';
import { stronglyConnectedComponents } from '../../core/subset/strongly-connected-components.js';

describe('KeySet', () => {
  it('encodes small integers as numbers and everything else as text, so both sides of a key compare alike', () => {
    expect(encodeKey(['42'])).toBe(42);
    expect(encodeKey(['-7'])).toBe(-7);
    // 16 digits may not be a safe integer, and a leading zero is not an integer's text form.
    expect(encodeKey(['9007199254740993'])).toBe('9007199254740993');
    expect(encodeKey(['007'])).toBe('007');
    expect(encodeKey(['a', '1'])).toBe('a\u00001');
    expect(encodeKey([null])).toBeNull();
    expect(encodeKey(['a', null])).toBeNull();
    expect(decodeKey(encodeKey(['P1', '2']) as string, 2)).toEqual(['P1', '2']);
    expect(decodeKey(42, 1)).toEqual(['42']);
  });

  it('adds in batches, reports what was new, and deletes', () => {
    const set = KeySet.of([5, 1, 3, 'x']);
    expect(set.addAll([3, 4, 4, 'x', 'y', '9007199254740993'])).toEqual(['y', '9007199254740993', 4]);
    expect(set.size).toBe(7);
    expect([1, 3, 4, 5, 'x', 'y'].every((key) => set.has(key))).toBe(true);
    expect(set.has(2)).toBe(false);
    expect(set.deleteAll([1, 2, 'y'])).toBe(2);
    expect([...set]).toEqual([3, 4, 5, 'x', '9007199254740993']);
  });

  it('holds a million integer keys in a few megabytes', () => {
    const set = new KeySet();
    const keys = Array.from({ length: 1_000_000 }, (_, i) => i * 3);
    set.addAll(keys);
    expect(set.size).toBe(1_000_000);
    expect(set.has(2_999_997)).toBe(true);
    expect(set.has(2_999_998)).toBe(false);
  });

  it('quotes array literals for one text parameter', () => {
    expect(arrayLiteral(['1', 'a "b"', 'c\\d', '(0,1)'])).toBe('{"1","a \\"b\\"","c\\\\d","(0,1)"}');
  });
});

describe('stronglyConnectedComponents', () => {
  it('lists parents before children and finds cycles, self-references included', () => {
    const parents: Record<string, string[]> = {
      item: ['order', 'product'],
      order: ['user'],
      user: ['user'],
      product: [],
      staff: ['store'],
      store: ['staff', 'address'],
      address: [],
    };
    const components = stronglyConnectedComponents(Object.keys(parents), (node) => parents[node] ?? []);
    const order = components.map((component) => component.sort().join('+'));
    expect(order).toContain('staff+store');
    const at = (name: string) => order.indexOf(name);
    expect(at('user')).toBeLessThan(at('order'));
    expect(at('order')).toBeLessThan(at('item'));
    expect(at('product')).toBeLessThan(at('item'));
    expect(at('address')).toBeLessThan(at('staff+store'));
  });

  it('handles a chain of a hundred thousand tables without overflowing the stack', () => {
    const nodes = Array.from({ length: 100_000 }, (_, i) => i);
    const components = stronglyConnectedComponents(nodes, (i) => (i > 0 ? [i - 1] : []));
    expect(components.length).toBe(100_000);
    expect(components[0]).toEqual([0]);
  });
});
