import { DatabaseError } from '../errors.js';
import { mapSqlCode } from './map-sql-code.js';
import type { SqlParameter } from './queryable.js';
import type { TextValue } from './source.js';

export type NamedParameters = Readonly<Record<string, SqlParameter>>;

/** What the reader needs from a source: reads in its one transaction, with `:name` parameters. */
export interface PagedStatements {
  /** Runs a read whose every column is text; returns its rows. */
  rows(sql: string, params: NamedParameters): Promise<TextValue[][]>;
}

/** A call refused because its answer was too big: the whole response, or one row. */
export class ResultLimitError extends DatabaseError {
  override name = 'ResultLimitError';
  constructor(
    readonly limit: 'response' | 'row',
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

export interface KeyPagingOptions {
  /** Most rows one page asks for. */
  readonly maxPageRows?: number;
  /** Response size pages aim at (the Data API refuses more than 1 MiB). */
  readonly targetPageBytes?: number;
  /**
   * Bytes of a row returned inline (the Data API refuses rows over 64 KB); longer values are
   * read in slices.
   */
  readonly rowBudgetBytes?: number;
  /** Bytes per slice of a long value (base64 makes each 4/3 larger on the wire). */
  readonly sliceBytes?: number;
  /** Slices fetched per call. */
  readonly slicesPerCall?: number;
}

interface ReadPlan {
  readonly select: string;
  readonly params: NamedParameters;
  readonly columnCount: number;
  /** `q(...)` column aliases: c0…cn, after devsnap_ctid, devsnap_tableoid when paging by ctid. */
  readonly aliases: string;
  readonly paging: KeyPaging | CtidPaging;
}

interface KeyPaging {
  readonly kind: 'key';
  /** The key as columns of `q` (the wrapped SELECT), and their SQL types. */
  readonly refs: readonly string[];
  readonly types: readonly string[];
}

interface CtidPaging {
  readonly kind: 'ctid';
  readonly leaves: readonly { readonly oid: string; readonly blocks: number }[];
}

/** Positions in a heap: block × 2^16 + line pointer, so halving a range can split a block. */
const BLOCK = 65_536;

/**
 * Reads any `SELECT` in pages small enough for the RDS Data API, exactly: every value comes back
 * as its PostgreSQL text output (format('%s'), i.e. the type's output function, which COPY uses
 * too), so no type is rounded or refused by the API.
 *
 * Pages follow the primary key (or a unique key on NOT NULL columns) of the relation the SELECT
 * reads from: `WHERE key > last ORDER BY key LIMIT n`, an index range scan per page. A relation
 * without such a key is read in ranges of row positions (ctid), which needs the plain
 * `SELECT … FROM [ONLY] table [alias] [WHERE …]` form. Page size follows the bytes pages return and halves
 * when the API refuses a response; a value too long for a row is returned as NULL with its length
 * and fetched in slices.
 */
export class KeyPagingReader {
  private readonly maxPageRows: number;
  private readonly targetPageBytes: number;
  private sliceBytes: number;
  private slicesPerCall: number;
  private rowBudget: number;

  constructor(
    private readonly statements: PagedStatements,
    options: KeyPagingOptions = {},
  ) {
    this.maxPageRows = options.maxPageRows ?? 1000;
    this.targetPageBytes = options.targetPageBytes ?? 512 * 1024;
    this.rowBudget = options.rowBudgetBytes ?? 48 * 1024;
    this.sliceBytes = options.sliceBytes ?? 36 * 1024;
    this.slicesPerCall = options.slicesPerCall ?? 16;
  }

  /** Streams the rows of `select` (with `:name` parameters) in pages. */
  async *read(select: string, params: NamedParameters): AsyncIterable<TextValue[][]> {
    const plan = await this.plan(select, params);
    if (plan === undefined) return;
    if (plan.paging.kind === 'key') yield* this.readByKey(plan, plan.paging);
    else yield* this.readByCtid(plan, plan.paging);
  }

  /** How to page `select`; undefined when it returns no rows. */
  private async plan(select: string, params: NamedParameters): Promise<ReadPlan | undefined> {
    // Column names from the first row's JSON keys (in order, duplicates kept): asking for result
    // metadata instead would return the raw column types, some of which the Data API refuses.
    const [[namesJson] = []] = await this.statements.rows(
      `SELECT pg_catalog.json_agg(k.key)::text
FROM (SELECT q FROM (${select}) AS q LIMIT 1) AS r
CROSS JOIN LATERAL pg_catalog.json_object_keys(pg_catalog.to_json(r.q)) AS k(key)`,
      params,
    );
    if (!namesJson) return undefined;
    const names = JSON.parse(namesJson) as string[];
    const aliases = names.map((_, i) => `c${i}`);
    const relation = mainRelation(select);
    if (relation) {
      const key = await this.findKey(relation.name);
      const positions = key?.columns.map((column) => names.indexOf(column)) ?? [];
      if (key && positions.every((position) => position >= 0)) {
        return {
          select,
          params,
          columnCount: names.length,
          aliases: aliases.join(', '),
          paging: { kind: 'key', refs: positions.map((position) => `q.c${position}`), types: key.types },
        };
      }
      const injected = withRowPosition(select, relation.name);
      if (injected) {
        const plan = {
          select: injected.sql,
          params,
          columnCount: names.length,
          aliases: ['devsnap_ctid', 'devsnap_tableoid', ...aliases].join(', '),
        };
        // Ranges of positions scan the table once; a LIMIT or ORDER BY must see the whole read,
        // so such a read is paged by (tableoid, ctid) as its key instead.
        return injected.trailing
          ? {
              ...plan,
              paging: { kind: 'key', refs: ['q.devsnap_tableoid', 'q.devsnap_ctid'], types: ['oid', 'tid'] },
            }
          : { ...plan, paging: { kind: 'ctid', leaves: await this.leaves(relation.name, relation.only) } };
      }
    }
    throw new DatabaseError(
      `Cannot page this read through the RDS Data API: ${relation ? `${relation.name} has no primary key or unique NOT NULL key among the columns read, and the` : 'the'} statement is not a plain SELECT … FROM [ONLY] table [alias] [WHERE …] [ORDER BY …] [LIMIT …].`,
      {
        hint: `Give the table a primary key, or read it with the pg source. Statement: ${select.replace(/\s+/g, ' ').slice(0, 300)}`,
      },
    );
  }

  private async *readByKey(plan: ReadPlan, paging: KeyPaging): AsyncIterable<TextValue[][]> {
    let after: TextValue[] | null = null;
    let pageRows = Math.min(100, this.maxPageRows);
    const keyRefs = paging.refs.join(', ');
    const keyCount = paging.refs.length;
    /** `(key) > (values)` or `(key) = (values)`, binding the values into `params`. */
    const keyCompare = (
      operator: '>' | '=',
      values: readonly TextValue[],
      params: Record<string, SqlParameter>,
    ) =>
      `(${keyRefs}) ${operator} (${paging.types
        .map((type, i) => {
          params[`devsnap_k${i}`] = values[i] ?? null;
          return `CAST(:devsnap_k${i} AS ${type})`;
        })
        .join(', ')})`;
    for (;;) {
      const params: Record<string, SqlParameter> = { ...plan.params };
      const where = after ? `WHERE ${keyCompare('>', after, params)}` : '';
      const page = await this.fetchPage(pageRows, (rows, inline) => ({
        // Each row: its key as text (to continue after it and to find it again), then its values.
        sql: `SELECT ${paging.refs.map((_, i) => textOf(`p.k${i}`)).join(', ')}, ${inlineColumns(plan.columnCount, inline)}
FROM (SELECT ${valueColumns(plan.columnCount)}, ${paging.refs.map((ref, i) => `${ref} AS k${i}`).join(', ')}
  FROM (${plan.select}) AS q(${plan.aliases})
  ${where}
  ORDER BY ${keyRefs}
  LIMIT ${rows}) AS p
ORDER BY ${paging.refs.map((_, i) => `p.k${i}`).join(', ')}`,
        params,
      }));
      const rows = await this.completeRows(plan, page.rows, keyCount, (row) => {
        const predicate: Record<string, SqlParameter> = {};
        return { sql: keyCompare('=', row, predicate), params: predicate };
      });
      if (rows.length > 0) yield rows.map((row) => row.slice(keyCount));
      if (page.rows.length < page.requested) return;
      after = rows[rows.length - 1] ?? null;
      pageRows = this.nextPageRows(page);
    }
  }

  private async *readByCtid(plan: ReadPlan, paging: CtidPaging): AsyncIterable<TextValue[][]> {
    let span = 8 * BLOCK;
    for (const leaf of paging.leaves) {
      const end = leaf.blocks * BLOCK;
      for (let from = 0; from < end; ) {
        const to = Math.min(from + span, end);
        const params = {
          ...plan.params,
          devsnap_oid: leaf.oid,
          devsnap_from: tid(from),
          devsnap_to: tid(to),
        };
        let page: FetchedPage;
        try {
          page = await this.fetchPage(Number.POSITIVE_INFINITY, (_rows, inline) => ({
            sql: `SELECT p.devsnap_ctid::text, ${inlineColumns(plan.columnCount, inline)}
FROM (SELECT ${valueColumns(plan.columnCount)}, q.devsnap_ctid
  FROM (${plan.select}) AS q(${plan.aliases})
  WHERE q.devsnap_tableoid = CAST(:devsnap_oid AS oid)
    AND q.devsnap_ctid >= CAST(:devsnap_from AS tid) AND q.devsnap_ctid < CAST(:devsnap_to AS tid)) AS p
ORDER BY p.devsnap_ctid`,
            params,
          }));
        } catch (error) {
          if (error instanceof ResultLimitError && error.limit === 'response' && span > 1) {
            span = Math.max(1, Math.floor(span / 2));
            continue;
          }
          throw error;
        }
        const rows = await this.completeRows(plan, page.rows, 1, (row) => ({
          sql: 'q.devsnap_tableoid = CAST(:devsnap_oid AS oid) AND q.devsnap_ctid = CAST(:devsnap_tid AS tid)',
          params: { devsnap_oid: leaf.oid, devsnap_tid: row[0] ?? null },
        }));
        if (rows.length > 0) yield rows.map((row) => row.slice(1));
        from = to;
        // Grow toward the target size (pages of a sparse stretch, or a selective WHERE, cost a call
        // each) but keep each call's scan to about 128 MiB of heap, well inside the call time limit.
        const bytes = Math.max(page.bytes, 1);
        span = Math.max(
          1,
          Math.min(16_384 * BLOCK, Math.floor(span * Math.min(4, this.targetPageBytes / bytes))),
        );
      }
    }
  }

  /**
   * Runs one page, shrinking the inline budget when a row is too big and the row count when the
   * response is; the key pager passes the row count, the ctid pager shrinks its range instead.
   */
  private async fetchPage(
    rows: number,
    build: (rows: number, inline: number) => { sql: string; params: NamedParameters },
  ): Promise<FetchedPage> {
    let requested = rows;
    for (;;) {
      const { sql, params } = build(requested, this.rowBudget);
      try {
        const result = await this.statements.rows(sql, params);
        return { rows: result, requested, bytes: textBytes(result) };
      } catch (error) {
        if (!(error instanceof ResultLimitError)) throw error;
        if (error.limit === 'row' && this.rowBudget > 64) {
          this.rowBudget = Math.floor(this.rowBudget / 2);
          continue;
        }
        if (error.limit === 'response' && Number.isFinite(requested) && requested > 1) {
          requested = Math.max(1, Math.floor(requested / 2));
          continue;
        }
        throw error;
      }
    }
  }

  private nextPageRows(page: FetchedPage): number {
    const perRow = Math.max(page.bytes / Math.max(page.rows.length, 1), 1);
    const fit = Math.floor(this.targetPageBytes / perRow);
    return Math.max(1, Math.min(this.maxPageRows, fit, page.requested * 4));
  }

  /**
   * Turns page rows (values…, long-value list) into full rows: values that were too long to
   * return inline are read in slices by the row's key or position.
   */
  private async completeRows(
    plan: ReadPlan,
    rows: TextValue[][],
    offset: number,
    rowPredicate: (row: TextValue[]) => { sql: string; params: NamedParameters },
  ): Promise<TextValue[][]> {
    const complete: TextValue[][] = [];
    for (const row of rows) {
      const longValues = row[row.length - 1] ?? '';
      const values = row.slice(0, -1);
      for (const entry of longValues ? longValues.split(',') : []) {
        const [column, length] = entry.split(':').map(Number) as [number, number];
        const predicate = rowPredicate(values);
        values[offset + column] = await this.readLongValue(plan, column, length, predicate);
      }
      complete.push(values);
    }
    return complete;
  }

  private async readLongValue(
    plan: ReadPlan,
    column: number,
    length: number,
    predicate: { sql: string; params: NamedParameters },
  ): Promise<string> {
    const parts: Buffer[] = [];
    for (let from = 0; from < length; ) {
      const step = this.sliceBytes * this.slicesPerCall;
      let slices: TextValue[][];
      try {
        slices = await this.statements.rows(
          `SELECT pg_catalog.encode(pg_catalog.substr(r.b, s.n + 1, ${this.sliceBytes}), 'base64')
FROM (SELECT pg_catalog.convert_to(${textOf(`q.c${column}`)}, 'UTF8') AS b
  FROM (${plan.select}) AS q(${plan.aliases})
  WHERE ${predicate.sql} OFFSET 0) AS r
CROSS JOIN LATERAL pg_catalog.generate_series(${from}, LEAST(pg_catalog.octet_length(r.b), ${from + step}) - 1, ${this.sliceBytes}) AS s(n)
ORDER BY s.n`,
          { ...plan.params, ...predicate.params },
        );
      } catch (error) {
        // Fewer slices per call when the response is too big, smaller slices when one is.
        if (error instanceof ResultLimitError && error.limit === 'response' && this.slicesPerCall > 1) {
          this.slicesPerCall = Math.floor(this.slicesPerCall / 2);
          continue;
        }
        if (error instanceof ResultLimitError && error.limit === 'row' && this.sliceBytes > 1024) {
          this.sliceBytes = Math.floor(this.sliceBytes / 2);
          continue;
        }
        throw error;
      }
      for (const [slice] of slices) parts.push(Buffer.from(slice ?? '', 'base64'));
      from += step;
    }
    const bytes = Buffer.concat(parts);
    if (bytes.length !== length) {
      throw new DatabaseError(
        `A long value (column ${column + 1}) read in slices has ${bytes.length} bytes instead of ${length}.`,
        { hint: 'The row was not found again by its key; report this as a devsnap bug.' },
      );
    }
    return bytes.toString('utf8');
  }

  private async findKey(relation: string): Promise<{ columns: string[]; types: string[] } | undefined> {
    const [row] = await this.statements.rows(
      `SELECT pg_catalog.json_agg(a.attname ORDER BY k.ord)::text,
  pg_catalog.json_agg(pg_catalog.format_type(a.atttypid, a.atttypmod) ORDER BY k.ord)::text
FROM pg_catalog.pg_index i
CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = pg_catalog.to_regclass(:devsnap_relation) AND i.indisunique AND i.indisvalid
  AND i.indpred IS NULL AND i.indexprs IS NULL AND k.ord <= i.indnkeyatts
GROUP BY i.indexrelid, i.indisprimary
HAVING pg_catalog.bool_and(a.attnotnull)
ORDER BY i.indisprimary DESC, pg_catalog.count(*), i.indexrelid
LIMIT 1`,
      { devsnap_relation: relation },
    );
    if (!row?.[0] || !row[1]) return undefined;
    return { columns: JSON.parse(row[0]) as string[], types: JSON.parse(row[1]) as string[] };
  }

  /** Heap relations whose rows the relation's scan returns (itself, or its partitions/children). */
  private async leaves(relation: string, only: boolean): Promise<{ oid: string; blocks: number }[]> {
    const rows = await this.statements.rows(
      `WITH RECURSIVE tree(oid) AS (
  SELECT pg_catalog.to_regclass(:devsnap_relation)::oid
  ${only ? '' : 'UNION ALL SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN tree t ON i.inhparent = t.oid'}
)
SELECT c.oid::text,
  ((pg_catalog.pg_relation_size(c.oid) + s.size - 1) / s.size)::text
FROM tree JOIN pg_catalog.pg_class c ON c.oid = tree.oid
CROSS JOIN (SELECT pg_catalog.current_setting('block_size')::int8 AS size) AS s
WHERE c.relkind IN ('r', 'm')
ORDER BY c.oid`,
      { devsnap_relation: relation },
    );
    return rows.map(([oid, blocks]) => ({ oid: oid ?? '', blocks: Number(blocks) }));
  }
}

interface FetchedPage {
  readonly rows: TextValue[][];
  /** Rows asked for (Infinity for a ctid range). */
  readonly requested: number;
  /** Text bytes returned, to size the next page. */
  readonly bytes: number;
}

/** The type's text output, as COPY writes it (casts to text differ for bool, bpchar and inet). */
function textOf(expression: string): string {
  return `CASE WHEN ${expression} IS NULL THEN NULL ELSE pg_catalog.format('%s', ${expression}) END`;
}

function valueColumns(count: number): string {
  return Array.from({ length: count }, (_, i) => `${textOf(`q.c${i}`)} AS v${i}`).join(', ');
}

/** Each value when it fits the per-column budget, then `column:length` of those that do not. */
function inlineColumns(count: number, rowBudget: number): string {
  const budget = Math.max(16, Math.floor(rowBudget / Math.max(count, 1)));
  const tooLong = (i: number) => `pg_catalog.octet_length(p.v${i}) > ${budget}`;
  const columns = Array.from({ length: count }, (_, i) => i);
  const values = columns.map((i) => `CASE WHEN ${tooLong(i)} THEN NULL ELSE p.v${i} END`);
  const long = columns.map(
    (i) => `CASE WHEN ${tooLong(i)} THEN '${i}:' || pg_catalog.octet_length(p.v${i}) END`,
  );
  return [...values, `pg_catalog.concat_ws(',', ${long.length ? long.join(', ') : 'NULL'})`].join(', ');
}

function tid(position: number): string {
  return `(${Math.floor(position / BLOCK)},${position % BLOCK})`;
}

function textBytes(rows: TextValue[][]): number {
  let bytes = 0;
  for (const row of rows) for (const value of row) bytes += value === null ? 12 : value.length + 18;
  return bytes;
}

const IDENTIFIER = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)`;
const RELATION = new RegExp(String.raw`\bFROM\s+(ONLY\s+)?(${IDENTIFIER}(?:\s*\.\s*${IDENTIFIER})?)`, 'i');

/** The statement with literals and comments blanked and every parenthesised group collapsed. */
function topLevel(select: string): string {
  let code = mapSqlCode(
    select,
    (text) => text,
    (text) => (text.startsWith('"') ? text : "''"),
  );
  while (/\([^()]*\)/.test(code)) code = code.replace(/\([^()]*\)/g, '_');
  return code;
}

/** The first relation of the top-level FROM clause. */
function mainRelation(select: string): { name: string; only: boolean } | undefined {
  const match = RELATION.exec(topLevel(select));
  return match?.[2] ? { name: match[2].replace(/\s*\.\s*/, '.'), only: Boolean(match[1]) } : undefined;
}

/**
 * `SELECT list FROM [ONLY] relation [[AS] alias] [WHERE …] [ORDER BY …] [LIMIT …]` with the
 * row's position and table in front, so pages can follow ctid; undefined for any other shape.
 * `trailing` says whether an ORDER BY, LIMIT, OFFSET or FETCH follows.
 */
function withRowPosition(select: string, relation: string): { sql: string; trailing: boolean } | undefined {
  const code = topLevel(select);
  const escaped = relation.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('\\.', '\\s*\\.\\s*');
  const simple = new RegExp(
    String.raw`^\s*SELECT\s+(?!DISTINCT\b|ALL\b)[\s\S]+?\s+FROM\s+(?:ONLY\s+)?${escaped}(?:\s+(?:AS\s+)?(?!WHERE\b|ORDER\b|LIMIT\b|OFFSET\b|FETCH\b)${IDENTIFIER})?\s*(?:WHERE\b([\s\S]*?))?(\b(?:ORDER|LIMIT|OFFSET|FETCH)\b[\s\S]*?)?;?\s*$`,
    'i',
  ).exec(code);
  if (!simple) return undefined;
  if (
    /\b(GROUP|HAVING|UNION|INTERSECT|EXCEPT|WINDOW|FOR|JOIN)\b/i.test(`${simple[1] ?? ''} ${simple[2] ?? ''}`)
  ) {
    return undefined;
  }
  return {
    sql: select.replace(/^\s*SELECT\s+/i, 'SELECT ctid, tableoid, '),
    trailing: simple[2] !== undefined,
  };
}
