import { textPiece } from '../../core/anonymise/anonymise-column.js';
import type { Anonymiser, ValueFunction } from '../../core/anonymise/anonymiser.js';
import { allowProblems } from '../../core/anonymise/detectors/detector-names.js';
import {
  compileJsonPath,
  formatJson,
  JsonNumber,
  type JsonPath,
  type JsonValue,
  parseJson,
  updateJsonPath,
} from '../../core/anonymise/json-text.js';
import { optionProblems } from '../option-problems.js';
import type { AllowOption } from './allow-option.js';

/**
 * Anonymises values inside json/jsonb: `jsonPaths({ '$.email': fake('internet.email'),
 * '$.addresses[*].line1': fake('location.streetAddress'), '$..phone': fake('phone.number') })`.
 * A path that matches an object or array applies its rule to every value inside it. Values at
 * other paths are kept, number for number, and checked by the detectors as they are written
 * (`allow` names the detectors they may set off).
 */
export function jsonPaths(
  rules: Readonly<Record<string, Anonymiser>>,
  options: AllowOption = {},
): Anonymiser {
  const entries = Object.entries(rules);
  const compiled = new Map<string, JsonPath | string>();
  for (const [path] of entries) {
    try {
      compiled.set(path, compileJsonPath(path));
    } catch (error) {
      compiled.set(path, error instanceof Error ? error.message : String(error));
    }
  }
  return {
    kind: 'jsonPaths',
    describe: () => `jsonPaths(${entries.map(([path, rule]) => `${path}: ${rule.describe()}`).join('; ')})`,
    preserveNulls: true,
    wholeValue: true,
    canVary: false,
    readsRow: entries.some(([, rule]) => rule.readsRow === true),
    jsonRules: entries,
    ...(options.allow ? { allow: options.allow } : {}),
    validate(column) {
      const optionIssues = optionProblems('jsonPaths()', options, ['allow']);
      if (optionIssues.length > 0) return optionIssues;
      const problems: string[] = allowProblems(options.allow, 'jsonPaths()');
      if (column.family !== 'json') {
        problems.push(
          `jsonPaths() works on json and jsonb, but ${column.qualified} is ${column.column.dataType}`,
        );
      }
      if (entries.length === 0) problems.push('jsonPaths() needs at least one path');
      for (const [path, rule] of entries) {
        const compiledPath = compiled.get(path);
        if (typeof compiledPath === 'string') problems.push(`jsonPaths(): ${compiledPath}`);
        for (const problem of rule.validate?.(textPiece(column)) ?? [])
          problems.push(`jsonPaths() at ${path}: ${problem}`);
      }
      return problems;
    },
    async bind(column, tools) {
      const bound: [JsonPath, Anonymiser, ValueFunction][] = [];
      for (const [path, rule] of entries) {
        const compiledPath = compiled.get(path);
        if (typeof compiledPath === 'string' || !compiledPath)
          throw new Error(`jsonPaths(): ${compiledPath}`);
        bound.push([compiledPath, rule, await tools.bind(rule, textPiece(column))]);
      }
      return (value, row, attempt) => {
        if (value === null) return null;
        let root = parseJson(value);
        for (const [path, rule, fn] of bound) {
          const replace = (node: JsonValue): JsonValue => {
            if (Array.isArray(node)) return node.map(replace);
            if (node instanceof Map) {
              for (const [key, item] of node) node.set(key, replace(item));
              return node;
            }
            if (node === null && rule.preserveNulls) return null;
            const text = node === null ? null : node instanceof JsonNumber ? node.raw : String(node);
            const output = fn(text, row, attempt);
            if (output === null) return null;
            // A rule over a whole object (`'$': scrub()`) sees booleans too: they stay booleans.
            if (typeof node === 'boolean' && output === String(node)) return node;
            return node instanceof JsonNumber && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(output)
              ? new JsonNumber(output)
              : output;
          };
          root = updateJsonPath(root, path, replace);
        }
        return formatJson(root);
      };
    },
  };
}
