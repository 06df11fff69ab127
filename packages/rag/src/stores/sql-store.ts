// A vector store over any SQL client that speaks Postgres with pgvector: PGlite (embedded) and
// node-postgres (a server) both fit the small SqlClient interface below.
import { RagError } from '../errors.js';
import { Pacer, type LongOperationOptions } from '../progress.js';
import {
  type Metric,
  validateVectorOptions,
  type VectorLike,
  writeVector,
} from '../vector/metric.js';
import {
  filterToSql,
  indexStatement,
  PGVECTOR,
  parseVector,
  quoteIdentifier,
  schemaStatements,
  vectorLiteral,
} from './sql.js';
import type { StoreRecord, StoreSearchOptions, StoreSearchResult, VectorStore } from './store.js';

/** What a SQL store needs from a database client. */
export interface SqlClient {
  /** Runs one statement with `$1`-style parameters. */
  query<Row = Record<string, unknown>>(
    sql: string,
    parameters?: unknown[],
  ): Promise<{ rows: Row[] }>;
  /** Runs `work` in one transaction on one connection (so `SET LOCAL` applies to its queries). */
  transaction<T>(work: (client: Pick<SqlClient, 'query'>) => Promise<T>): Promise<T>;
  /** Closes the connection or database. */
  close(): Promise<void>;
}

/** Options shared by the SQL stores. */
export interface SqlStoreOptions {
  /** Vector length; an existing table of another dimension is an error naming both. */
  dimension: number;
  /** How vectors are compared; picks pgvector's operator class. Default `cosine`. */
  metric?: Metric;
  /** Table name (letters, digits, underscores). Default `llmkit_chunks`. */
  table?: string;
  /** pgvector HNSW build settings. Default `{ m: 16, efConstruction: 64 }` (pgvector's defaults). */
  hnsw?: { m?: number; efConstruction?: number };
  /** Default `hnsw.ef_search` of searches. Default 40 (pgvector's default). */
  efSearch?: number;
  /** Records per INSERT statement. Default 500. */
  batchSize?: number;
  /**
   * `immediate` (default): the HNSW index exists from the start and every insert updates it.
   * `deferred`: no index until `createIndex()`; for a bulk load, which pgvector indexes much faster
   * at once (searches before that scan the table exactly).
   */
  indexing?: 'immediate' | 'deferred';
}

/** A store on SQL: a {@link VectorStore} plus index control. */
export interface SqlVectorStore extends VectorStore {
  /**
   * Builds the HNSW index if it is missing (after a deferred bulk load). `maintenanceWorkMem`
   * (e.g. `'1GB'`) raises Postgres' `maintenance_work_mem` for this build only: pgvector builds
   * much faster when the whole graph fits in it.
   */
  createIndex(options?: { maintenanceWorkMem?: string }): Promise<void>;
}

/**
 * Opens a store on a SQL client: creates the vector extension, the table and its HNSW index if
 * missing, and checks the dimension of an existing table.
 */
export async function createSqlStore(
  client: SqlClient,
  options: SqlStoreOptions,
): Promise<SqlVectorStore> {
  const metric = options.metric ?? 'cosine';
  validateVectorOptions('createSqlStore', options.dimension, metric);
  const table = options.table ?? 'llmkit_chunks';
  const hnsw = { m: options.hnsw?.m ?? 16, efConstruction: options.hnsw?.efConstruction ?? 64 };
  for (const statement of schemaStatements(table, options.dimension)) await client.query(statement);
  const { rows } = await client.query<{ dimension: number }>(
    `SELECT atttypmod AS dimension FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'embedding'`,
    [quoteIdentifier(table)],
  );
  if (rows[0] && Number(rows[0].dimension) !== options.dimension) {
    throw new RagError(
      'dimension_mismatch',
      `table ${table} holds vectors of dimension ${rows[0].dimension}, the store was opened with dimension ${options.dimension}`,
    );
  }
  const store = new SqlStore(
    client,
    table,
    options.dimension,
    metric,
    options.efSearch ?? 40,
    options.batchSize ?? 500,
    indexStatement(table, metric, hnsw),
  );
  if (options.indexing !== 'deferred') await store.createIndex();
  return store;
}

class SqlStore implements SqlVectorStore {
  private closed = false;
  private readonly scratch: Float32Array;
  private readonly t: string;

  constructor(
    private readonly client: SqlClient,
    table: string,
    readonly dimension: number,
    readonly metric: Metric,
    private readonly efSearch: number,
    private readonly batchSize: number,
    private readonly indexSql: string,
  ) {
    this.t = quoteIdentifier(table);
    this.scratch = new Float32Array(dimension);
  }

  private open(what: string): void {
    if (this.closed) throw new RagError('closed', `${what}: the store is closed`);
  }

  /** Checks a vector (dimension, finite values) and formats it for SQL; cosine vectors are sent as given. */
  private literal(where: string, vector: VectorLike): string {
    writeVector(
      where,
      vector,
      this.dimension,
      this.metric === 'cosine' ? 'dot' : this.metric,
      this.scratch,
      0,
    );
    return vectorLiteral(this.scratch);
  }

  async add(records: StoreRecord[], options: LongOperationOptions = {}): Promise<void> {
    this.open('store add');
    const pacer = new Pacer('store add', records.length, options, 0);
    for (let start = 0; start < records.length; start += this.batchSize) {
      const batch = records.slice(start, start + this.batchSize);
      // one jsonb parameter for the whole batch: both PGlite and node-postgres pass a string as is,
      // while their array serialisations differ
      const rows = batch.map((record) => {
        if (typeof record?.id !== 'string')
          throw new RagError(
            'invalid_data',
            `store add: record id is ${JSON.stringify(record?.id)}, expected a string`,
          );
        return {
          id: record.id,
          text: record.text ?? '',
          metadata: record.metadata ?? {},
          embedding: this.literal(`store add "${record.id}"`, record.vector),
        };
      });
      await this.client.query(
        `INSERT INTO ${this.t} (id, text, metadata, embedding)
         SELECT r.id, r.text, r.metadata, r.embedding::vector
         FROM jsonb_to_recordset($1::jsonb) AS r(id text, text text, metadata jsonb, embedding text)
         ON CONFLICT (id) DO UPDATE SET text = EXCLUDED.text, metadata = EXCLUDED.metadata, embedding = EXCLUDED.embedding`,
        [JSON.stringify(rows)],
      );
      await pacer.tick(start + batch.length);
    }
    pacer.finish();
  }

  async createIndex(options: { maintenanceWorkMem?: string } = {}): Promise<void> {
    this.open('store createIndex');
    const memory = options.maintenanceWorkMem;
    if (memory === undefined) {
      await this.client.query(this.indexSql);
      return;
    }
    if (!/^\d+\s*(kB|MB|GB)$/.test(memory)) {
      throw new RagError(
        'invalid_config',
        `store createIndex: maintenanceWorkMem is ${JSON.stringify(memory)}, expected a size such as '512MB' or '1GB'`,
      );
    }
    await this.client.transaction(async (tx) => {
      await tx.query(`SET LOCAL maintenance_work_mem = '${memory}'`);
      await tx.query(this.indexSql);
    });
  }

  async remove(ids: string | string[]): Promise<number> {
    this.open('store remove');
    const list = Array.isArray(ids) ? ids : [ids];
    const { rows } = await this.client.query(
      `DELETE FROM ${this.t} WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)) RETURNING id`,
      [JSON.stringify(list)],
    );
    return rows.length;
  }

  async search(vector: VectorLike, options: StoreSearchOptions = {}): Promise<StoreSearchResult[]> {
    this.open('store search');
    const k = options.k ?? 10;
    const efSearch = options.efSearch ?? Math.max(this.efSearch, k);
    if (!Number.isInteger(k) || k < 0)
      throw new RagError('invalid_config', `store search: k is ${k}, expected an integer >= 0`);
    if (!Number.isInteger(efSearch) || efSearch < 1 || efSearch > 1000)
      throw new RagError(
        'invalid_config',
        `store search: efSearch is ${efSearch}, expected an integer in [1, 1000] (pgvector's range)`,
      );
    const query = this.literal('store search', vector);
    if (k === 0) return [];
    const { operator, score } = PGVECTOR[this.metric];
    const where = filterToSql(options.filter, 3);
    const distance = `embedding ${operator} $1::vector`;
    return this.client.transaction(async (tx) => {
      await tx.query(`SET LOCAL hnsw.ef_search = ${efSearch}`);
      // with a filter, let the index scan go on until k rows pass it (pgvector >= 0.8)
      if (options.filter !== undefined)
        await tx.query(`SET LOCAL hnsw.iterative_scan = strict_order`);
      const { rows } = await tx.query<{
        id: string;
        text: string;
        metadata: Record<string, unknown>;
        score: number;
      }>(
        `SELECT id, text, metadata, ${score(distance)} AS score FROM ${this.t} WHERE ${where.sql} ORDER BY ${distance} LIMIT $2`,
        [query, k, ...where.parameters],
      );
      return rows.map((row) => ({
        id: row.id,
        score: Number(row.score),
        text: row.text,
        metadata: row.metadata,
      }));
    });
  }

  async get(id: string) {
    this.open('store get');
    const { rows } = await this.client.query<{
      id: string;
      text: string;
      metadata: Record<string, unknown>;
      embedding: string;
    }>(`SELECT id, text, metadata, embedding::text AS embedding FROM ${this.t} WHERE id = $1`, [
      id,
    ]);
    const row = rows[0];
    return (
      row && {
        id: row.id,
        text: row.text,
        metadata: row.metadata,
        vector: parseVector(row.embedding),
      }
    );
  }

  async count(): Promise<number> {
    this.open('store count');
    const { rows } = await this.client.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM ${this.t}`,
    );
    return Number(rows[0].count);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.close();
  }
}
