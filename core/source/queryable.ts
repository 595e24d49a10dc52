/** A parameter value every source can bind (the RDS Data API has no array parameters). */
export type SqlParameter = string | number | boolean | null;

/** A row as returned by a source: column name to value. */
export type Row = Record<string, unknown>;

/**
 * The narrowest thing that runs a query. Catalog queries written against it return only
 * text, integer, boolean and JSON-as-text columns so they behave the same through `pg` and the
 * RDS Data API.
 */
export interface Queryable {
  query<R extends object = Row>(sql: string, params?: readonly SqlParameter[]): Promise<R[]>;
}
