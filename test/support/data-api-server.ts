import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { mapSqlCode } from '../../core/source/map-sql-code.js';

/**
 * A Data-API-compatible HTTP server for tests: the RDS Data API's routes, JSON shapes and error
 * headers, backed by a real PostgreSQL, enforcing the limits AWS enforces so that tests fail the
 * way AWS fails (see DESIGN.md). Every limit can be made smaller so tests reach it quickly.
 */
export interface DataApiServerOptions {
  /** Any database URL on the server; a request's `database` picks the database. */
  readonly postgresUrl: string;
  /** Response size limit (AWS: 1 MiB). */
  readonly responseLimitBytes?: number;
  /** Row size limit (AWS: 64 KB). */
  readonly rowLimitBytes?: number;
  /** How long one call may run before it is cancelled (AWS: 45 s). */
  readonly callTimeoutMs?: number;
  /** A transaction with no call for this long is rolled back and forgotten (AWS: 3 minutes). */
  readonly transactionIdleMs?: number;
  /** The longest a transaction may live (AWS: 24 hours). */
  readonly transactionMaxMs?: number;
}

/** One call as the server saw it. */
export interface DataApiCall {
  readonly operation: string;
  readonly sql?: string;
  readonly transactionId?: string;
  /** Error type returned, if any, and its message. */
  readonly error?: string;
  readonly message?: string;
  readonly rows?: number;
  readonly responseBytes?: number;
}

/** A fault a real cluster produces but a local PostgreSQL cannot be made to (a paused cluster, throttling). */
export interface DataApiFault {
  readonly type: string;
  readonly status?: number;
  readonly message?: string;
  /** How many calls fail (default 1). */
  readonly times?: number;
  /** Only calls this matches fail (default: every call). */
  readonly when?: (call: { operation: string; sql?: string }) => boolean;
}

export interface DataApiServer {
  readonly endpoint: string;
  readonly resourceArn: string;
  readonly secretArn: string;
  readonly calls: DataApiCall[];
  /** Makes calls fail with a fault, in order, before normal service. */
  inject(fault: DataApiFault): void;
  /** An auto-paused cluster: every call gets DatabaseResumingException for `ms`. */
  pauseCluster(ms: number): void;
  /** Transactions still open on the server. */
  openTransactions(): number;
  stop(): Promise<void>;
}

export const DATA_API_LIMITS = {
  responseLimitBytes: 1024 * 1024,
  rowLimitBytes: 64 * 1024,
  callTimeoutMs: 45_000,
  transactionIdleMs: 3 * 60_000,
  transactionMaxMs: 24 * 60 * 60_000,
} as const;

/** A Data API error: its type goes in the x-amzn-ErrorType header, as AWS sends it. */
class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

interface Transaction {
  readonly id: string;
  readonly client: pg.Client;
  readonly pid: number;
  readonly started: number;
  lastUsed: number;
  busy: boolean;
}

/** Types Aurora's Data API cannot return as a typed field; they must be cast in SQL. */
const UNSUPPORTED_TYPES = new Map<number, string>([
  [1186, 'interval'],
  [790, 'money'],
  [600, 'point'],
  [601, 'lseg'],
  [602, 'path'],
  [603, 'box'],
  [604, 'polygon'],
  [628, 'line'],
  [718, 'circle'],
  [869, 'inet'],
  [650, 'cidr'],
  [829, 'macaddr'],
  [774, 'macaddr8'],
  [1560, 'bit'],
  [1562, 'varbit'],
  [3614, 'tsvector'],
  [3615, 'tsquery'],
  [142, 'xml'],
  [3904, 'int4range'],
  [3906, 'numrange'],
  [3908, 'tsrange'],
  [3910, 'tstzrange'],
  [3912, 'daterange'],
  [3926, 'int8range'],
]);

const INTEGER_TYPES = new Set([20, 21, 23, 26]); // int8, int2, int4, oid
const FLOAT_TYPES = new Set([700, 701]);
const ARRAY_ELEMENT = new Map<number, number>([
  [1000, 16], // bool[]
  [1005, 21],
  [1007, 23],
  [1016, 20],
  [1021, 700],
  [1022, 701],
  [1231, 1700],
  [1009, 25],
  [1015, 1043],
  [1014, 1042],
  [1003, 19],
  [2951, 2950], // uuid[]
  [1182, 1082], // date[]
  [1115, 1114],
  [1185, 1184],
]);
const TYPE_NAMES = new Map<number, string>([
  [16, 'bool'],
  [17, 'bytea'],
  [19, 'name'],
  [20, 'int8'],
  [21, 'int2'],
  [23, 'int4'],
  [25, 'text'],
  [26, 'oid'],
  [114, 'json'],
  [3802, 'jsonb'],
  [700, 'float4'],
  [701, 'float8'],
  [1042, 'bpchar'],
  [1043, 'varchar'],
  [1082, 'date'],
  [1083, 'time'],
  [1114, 'timestamp'],
  [1184, 'timestamptz'],
  [1700, 'numeric'],
  [2950, 'uuid'],
]);

/**
 * Starts the server on 127.0.0.1. Connections get server defaults unlike devsnap's
 * SESSION_SETTINGS (another time zone and date style), so a client must set its own.
 */
export async function startDataApiServer(options: DataApiServerOptions): Promise<DataApiServer> {
  const limits = { ...DATA_API_LIMITS, ...stripUndefined(options) };
  const resourceArn = 'arn:aws:rds:us-east-1:123456789012:cluster:devsnap-test';
  const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:devsnap-test';
  const transactions = new Map<string, Transaction>();
  const calls: DataApiCall[] = [];
  const faults: (DataApiFault & { remaining: number })[] = [];
  const admin = new pg.Pool({ connectionString: options.postgresUrl, max: 2 });
  const autocommit = new Map<string, pg.Pool>();
  let pausedUntil = 0;

  const connectionString = (database: string | undefined) => {
    const url = new URL(options.postgresUrl);
    if (database) url.pathname = `/${encodeURIComponent(database)}`;
    return url.toString();
  };

  const connect = async (database: string | undefined): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: connectionString(database), types: RAW_TEXT_TYPES });
    client.on('error', () => {});
    await client.connect();
    await client.query(SERVER_DEFAULTS);
    return client;
  };

  const sweeper = setInterval(
    () => {
      const now = Date.now();
      for (const tx of transactions.values()) {
        const idle = !tx.busy && now - tx.lastUsed > limits.transactionIdleMs;
        if (idle || now - tx.started > limits.transactionMaxMs)
          endTransaction(tx, 'ROLLBACK').catch(() => {});
      }
    },
    Math.max(10, Math.min(1000, limits.transactionIdleMs / 10)),
  );
  sweeper.unref();

  const endTransaction = async (tx: Transaction, how: 'COMMIT' | 'ROLLBACK') => {
    transactions.delete(tx.id);
    try {
      await tx.client.query(how);
    } finally {
      await tx.client.end().catch(() => {});
    }
  };

  const transactionFor = (id: unknown): Transaction => {
    const tx = typeof id === 'string' ? transactions.get(id) : undefined;
    if (!tx) throw new ApiError('BadRequestException', `Transaction ${String(id)} is not found`);
    if (tx.busy) throw new ApiError('DatabaseErrorException', 'Transaction is still running a query');
    return tx;
  };

  /** Runs one statement under the call time limit; on timeout cancels it as AWS does. */
  const run = async (
    client: pg.Client | pg.PoolClient,
    pid: number,
    sql: string,
    values: unknown[],
  ): Promise<pg.QueryResult> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void admin.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => {});
        reject(
          new ApiError('StatementTimeoutException', 'Request timed out', 400, {
            dbConnectionId: pid,
          }),
        );
      }, limits.callTimeoutMs);
    });
    const query = client.query({ text: sql, values, rowMode: 'array' });
    query.catch(() => {});
    try {
      return await Promise.race([query, timeout]);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      const pgError = error as { message?: string; code?: string; position?: string };
      throw new ApiError(
        'BadRequestException',
        `ERROR: ${pgError.message}${pgError.position ? `\n  Position: ${pgError.position}` : ''}; SQLState: ${pgError.code}`,
      );
    } finally {
      clearTimeout(timer);
    }
  };

  const execute = async (body: ExecuteRequest): Promise<Record<string, unknown>> => {
    if (typeof body.sql !== 'string' || body.sql.trim() === '') {
      throw new ApiError('BadRequestException', 'SQL statement is required');
    }
    if (hasSeveralStatements(body.sql))
      throw new ApiError('BadRequestException', "Multistatements aren't supported.");
    const { sql, values } = bindNamedParameters(body.sql, body.parameters ?? []);
    let result: pg.QueryResult;
    if (body.transactionId !== undefined) {
      const tx = transactionFor(body.transactionId);
      tx.busy = true;
      tx.lastUsed = Date.now();
      try {
        result = await run(tx.client, tx.pid, sql, values);
      } finally {
        tx.busy = false;
        tx.lastUsed = Date.now();
      }
    } else {
      const key = body.database ?? '';
      let pool = autocommit.get(key);
      if (!pool) {
        pool = new pg.Pool({
          connectionString: connectionString(body.database),
          max: 4,
          types: RAW_TEXT_TYPES,
        });
        pool.on('connect', (client) => {
          client.query(SERVER_DEFAULTS).catch(() => {});
        });
        pool.on('error', () => {});
        autocommit.set(key, pool);
      }
      const client = await pool.connect();
      try {
        const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
        result = await run(client, Number(pid), sql, values);
      } finally {
        client.release();
      }
    }
    return encodeResult(result, body, limits);
  };

  const handle = async (
    operation: string,
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown>> => {
    if (typeof body.resourceArn !== 'string' || typeof body.secretArn !== 'string') {
      throw new ApiError('BadRequestException', 'resourceArn and secretArn are required');
    }
    if (body.resourceArn !== resourceArn) {
      throw new ApiError(
        'BadRequestException',
        `HttpEndpoint is not enabled for cluster ${body.resourceArn}`,
      );
    }
    if (Date.now() < pausedUntil) {
      throw new ApiError(
        'DatabaseResumingException',
        `The Aurora DB instance ${resourceArn} is resuming after being auto-paused. Please wait a few seconds and try again.`,
      );
    }
    const fault = faults.find(
      (f) => f.remaining > 0 && (f.when?.({ operation, sql: body.sql as string }) ?? true),
    );
    if (fault) {
      fault.remaining--;
      throw new ApiError(fault.type, fault.message ?? `${fault.type} (injected)`, fault.status ?? 400);
    }
    switch (operation) {
      case 'BeginTransaction': {
        const client = await connect(body.database as string | undefined).catch((error: Error) => {
          throw new ApiError('BadRequestException', `FATAL: ${error.message}`);
        });
        const pid = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
        await client.query('BEGIN');
        const id = randomBytes(48).toString('base64');
        const now = Date.now();
        transactions.set(id, { id, client, pid, started: now, lastUsed: now, busy: false });
        return { transactionId: id };
      }
      case 'CommitTransaction': {
        await endTransaction(transactionFor(body.transactionId), 'COMMIT');
        return { transactionStatus: 'Transaction Committed' };
      }
      case 'RollbackTransaction': {
        await endTransaction(transactionFor(body.transactionId), 'ROLLBACK');
        return { transactionStatus: 'Rollback Complete' };
      }
      case 'Execute':
        return execute(body as unknown as ExecuteRequest);
      case 'BatchExecute': {
        const sets = (body.parameterSets as SqlParameterJson[][] | undefined) ?? [[]];
        const updateResults: unknown[] = [];
        for (const parameters of sets) {
          await execute({ ...(body as unknown as ExecuteRequest), parameters });
          updateResults.push({ generatedFields: [] });
        }
        return { updateResults };
      }
      default:
        throw new ApiError('UnknownOperationException', `Unknown operation ${operation}`, 404);
    }
  };

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const operation = (request.url ?? '').replace(/^\//, '').split('?')[0] ?? '';
    readBody(request)
      .then(async (text) => {
        const body = JSON.parse(text || '{}') as Record<string, unknown>;
        const call = {
          operation,
          sql: body.sql as string | undefined,
          transactionId: body.transactionId as string,
        };
        try {
          const result = await handle(operation, body);
          const json = JSON.stringify(result).replace(/"__int8:(-?\d+)"/g, '$1');
          calls.push({
            ...call,
            rows: (result.records as unknown[] | undefined)?.length,
            responseBytes: json.length,
          });
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(json);
        } catch (error) {
          const apiError =
            error instanceof ApiError
              ? error
              : new ApiError('InternalServerErrorException', String(error), 500);
          calls.push({ ...call, error: apiError.type, message: apiError.message });
          response.writeHead(apiError.status, {
            'content-type': 'application/json',
            'x-amzn-ErrorType': apiError.type,
          });
          response.end(JSON.stringify({ message: apiError.message, ...apiError.extra }));
        }
      })
      .catch((error: unknown) => {
        response.writeHead(400, { 'x-amzn-ErrorType': 'SerializationException' });
        response.end(JSON.stringify({ message: String(error) }));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    resourceArn,
    secretArn,
    calls,
    inject(fault) {
      faults.push({ ...fault, remaining: fault.times ?? 1 });
    },
    pauseCluster(ms) {
      pausedUntil = Date.now() + ms;
    },
    openTransactions: () => transactions.size,
    async stop() {
      clearInterval(sweeper);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(
        [...transactions.values()].map((tx) => endTransaction(tx, 'ROLLBACK').catch(() => {})),
      );
      await Promise.all([...autocommit.values()].map((pool) => pool.end()));
      await admin.end();
    },
  };
}

/** Settings unlike devsnap's SESSION_SETTINGS, so a client that relies on defaults reads wrong text. */
const SERVER_DEFAULTS = `SET TimeZone = 'America/New_York'; SET DateStyle = 'SQL, DMY'; SET IntervalStyle = 'sql_standard'; SET extra_float_digits = 0`;

/** Values arrive as the server's text output; this server types them itself, as the Data API does. */
const RAW_TEXT_TYPES = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

interface SqlParameterJson {
  readonly name?: string;
  readonly value?: Record<string, unknown>;
  readonly typeHint?: string;
}

interface ExecuteRequest {
  readonly sql: string;
  readonly database?: string;
  readonly transactionId?: string;
  readonly parameters?: SqlParameterJson[];
  readonly includeResultMetadata?: boolean;
  readonly resultSetOptions?: { decimalReturnType?: string; longReturnType?: string };
  readonly formatRecordsAs?: string;
}

/** `:name` placeholders to `$n`, each cast from the type its Field says (the Data API types parameters). */
function bindNamedParameters(
  sql: string,
  parameters: SqlParameterJson[],
): { sql: string; values: unknown[] } {
  const values: unknown[] = [];
  const numbers = new Map<string, string>();
  for (const parameter of parameters) {
    if (!parameter.name) throw new ApiError('BadRequestException', 'Parameter name is required');
    const [kind, raw] = Object.entries(parameter.value ?? { isNull: true })[0] ?? ['isNull', true];
    if (kind === 'arrayValue')
      throw new ApiError('BadRequestException', 'Array parameters are not supported.');
    const hint: Record<string, string> = {
      DATE: 'date',
      TIME: 'time',
      TIMESTAMP: 'timestamp',
      DECIMAL: 'numeric',
      UUID: 'uuid',
      JSON: 'json',
    };
    const cast =
      parameter.typeHint && hint[parameter.typeHint]
        ? hint[parameter.typeHint]
        : kind === 'stringValue'
          ? 'text'
          : kind === 'longValue'
            ? 'int8'
            : kind === 'doubleValue'
              ? 'float8'
              : kind === 'booleanValue'
                ? 'bool'
                : kind === 'blobValue'
                  ? 'bytea'
                  : undefined;
    values.push(
      kind === 'isNull'
        ? null
        : kind === 'blobValue'
          ? Buffer.from(String(raw), 'base64')
          : kind === 'booleanValue'
            ? Boolean(raw)
            : String(raw),
    );
    numbers.set(parameter.name, `$${values.length}${cast ? `::${cast}` : ''}`);
  }
  const rewritten = mapSqlCode(sql, (code) =>
    code.replace(/(?<!:):([A-Za-z_][A-Za-z0-9_]*)/g, (_match, name: string) => {
      const placeholder = numbers.get(name);
      if (placeholder === undefined)
        throw new ApiError('BadRequestException', `No value specified for parameter: ${name}`);
      return `(${placeholder})`;
    }),
  );
  return { sql: rewritten, values };
}

function hasSeveralStatements(sql: string): boolean {
  let code = '';
  mapSqlCode(sql, (stretch) => {
    code += `${stretch} x `;
    return stretch;
  });
  return code.replace(/[\s;x]+$/, '').includes(';');
}

function encodeResult(
  result: pg.QueryResult,
  request: ExecuteRequest,
  limits: { responseLimitBytes: number; rowLimitBytes: number },
): Record<string, unknown> {
  const fields = result.fields ?? [];
  if (!result.rows || fields.length === 0)
    return { numberOfRecordsUpdated: result.rowCount ?? 0, generatedFields: [] };
  for (const field of fields) {
    const unsupported =
      UNSUPPORTED_TYPES.get(field.dataTypeID) ??
      UNSUPPORTED_TYPES.get(ARRAY_ELEMENT.get(field.dataTypeID) ?? -1);
    if (unsupported) {
      throw new ApiError(
        'UnsupportedResultException',
        `The result contains the unsupported data type ${unsupported}.`,
      );
    }
  }
  const longAsString = request.resultSetOptions?.longReturnType === 'STRING';
  const decimalAsDouble = request.resultSetOptions?.decimalReturnType === 'DOUBLE_OR_LONG';
  const rows = result.rows as unknown as (string | null)[][];
  const records: unknown[][] = [];
  let size = 0;
  rows.forEach((row, index) => {
    const values = fields.map((_, i) => row[i] ?? null);
    const rowBytes = values.reduce(
      (sum: number, value, i) =>
        sum +
        (value === null
          ? 0
          : fields[i]?.dataTypeID === 17
            ? (value.length - 2) / 2
            : Buffer.byteLength(value)),
      0,
    );
    if (rowBytes > limits.rowLimitBytes) {
      throw new ApiError(
        'BadRequestException',
        `Packet for query is too large (row ${index + 1} is ${rowBytes} bytes; the limit is ${limits.rowLimitBytes}).`,
      );
    }
    const record = fields.map((field, i) =>
      encodeField(values[i] ?? null, field.dataTypeID, longAsString, decimalAsDouble),
    );
    size += JSON.stringify(record).length;
    if (size > limits.responseLimitBytes) {
      throw new ApiError(
        'BadRequestException',
        'Database returned more than the allowed response size limit',
      );
    }
    records.push(record);
  });
  const response: Record<string, unknown> = { numberOfRecordsUpdated: 0 };
  if (request.formatRecordsAs === 'JSON') {
    response.formattedRecords = JSON.stringify(
      records.map((record) =>
        Object.fromEntries(
          fields.map((field, i) => {
            const value = record[i] as Record<string, unknown>;
            return [field.name, 'isNull' in value ? null : Object.values(value)[0]];
          }),
        ),
      ),
    ).replace(/"__int8:(-?\d+)"/g, '$1');
  } else {
    response.records = records;
  }
  if (request.includeResultMetadata) {
    response.columnMetadata = fields.map((field) => ({
      name: field.name,
      label: field.name,
      typeName:
        TYPE_NAMES.get(field.dataTypeID) ?? (ARRAY_ELEMENT.has(field.dataTypeID) ? '_array' : 'unknown'),
      type: field.dataTypeID,
      nullable: 2,
      precision: 0,
      scale: 0,
      arrayBaseColumnType: ARRAY_ELEMENT.get(field.dataTypeID) ?? 0,
    }));
  }
  return response;
}

/** A typed Field as the Data API returns it for a PostgreSQL value in text form. */
function encodeField(
  value: string | null,
  type: number,
  longAsString: boolean,
  decimalAsDouble: boolean,
): unknown {
  if (value === null) return { isNull: true };
  if (type === 16) return { booleanValue: value === 't' };
  if (type === 17) return { blobValue: Buffer.from(value.slice(2), 'hex').toString('base64') };
  if (INTEGER_TYPES.has(type)) {
    // Written as a bare JSON number so a client without longReturnType STRING loses precision past
    // 2^53 exactly as it does against AWS.
    return type === 20 && longAsString ? { stringValue: value } : { longValue: `__int8:${value}` };
  }
  if (FLOAT_TYPES.has(type) || (type === 1700 && decimalAsDouble)) {
    const number = Number(value);
    return Number.isFinite(number) ? { doubleValue: number } : { stringValue: value };
  }
  const element = ARRAY_ELEMENT.get(type);
  if (element !== undefined) return { arrayValue: encodeArray(parseArrayText(value), element, longAsString) };
  return { stringValue: value };
}

type ArrayTree = (string | null | ArrayTree)[];

function encodeArray(items: ArrayTree, element: number, longAsString: boolean): Record<string, unknown> {
  if (items.some((item) => Array.isArray(item))) {
    return { arrayValues: items.map((item) => encodeArray(item as ArrayTree, element, longAsString)) };
  }
  const scalars = items as (string | null)[];
  if (element === 16) return { booleanValues: scalars.map((v) => (v === null ? null : v === 't')) };
  if (INTEGER_TYPES.has(element)) {
    return element === 20 && longAsString
      ? { stringValues: scalars }
      : { longValues: scalars.map((v) => (v === null ? null : `__int8:${v}`)) };
  }
  if (FLOAT_TYPES.has(element)) return { doubleValues: scalars.map((v) => (v === null ? null : Number(v))) };
  return { stringValues: scalars };
}

/** PostgreSQL array text ({a,"b c",NULL,{1,2}}) into nested arrays of element texts. */
function parseArrayText(text: string): ArrayTree {
  let i = text.startsWith('[') ? text.indexOf('=') + 1 : 0;
  const parse = (): ArrayTree => {
    const items: ArrayTree = [];
    i++; // {
    while (i < text.length && text[i] !== '}') {
      if (text[i] === '{') items.push(parse());
      else if (text[i] === '"') {
        let value = '';
        i++;
        while (text[i] !== '"') {
          if (text[i] === '\\') i++;
          value += text[i];
          i++;
        }
        i++;
        items.push(value);
      } else {
        let value = '';
        while (text[i] !== ',' && text[i] !== '}') value += text[i++];
        items.push(value === 'NULL' ? null : value);
      }
      if (text[i] === ',') i++;
    }
    i++; // }
    return items;
  };
  return parse();
}

/** A request's whole body as text. */
export function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
