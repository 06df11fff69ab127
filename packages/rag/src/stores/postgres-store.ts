// A store on a Postgres server with pgvector, through node-postgres (`pg`, an optional peer
// dependency). Same SQL and schema as the PGlite store: move a collection by dump and restore.
import { RagError } from '../errors.js';
import {
  createSqlStore,
  type SqlClient,
  type SqlStoreOptions,
  type SqlVectorStore,
} from './sql-store.js';

/** The part of a `pg.Pool` the store uses. */
export interface PgPoolLike {
  /** Runs a statement on some connection. */
  query(sql: string, parameters?: unknown[]): Promise<{ rows: unknown[] }>;
  /** Checks out one connection. */
  connect(): Promise<{
    query(sql: string, parameters?: unknown[]): Promise<{ rows: unknown[] }>;
    release(error?: Error | boolean): void;
  }>;
  /** Closes every connection. */
  end(): Promise<void>;
}

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions extends SqlStoreOptions {
  /** A connection string such as `postgres://user:password@host:5432/db`. */
  connectionString?: string;
  /** An existing `pg.Pool` to use instead (the store does not end it on close). */
  pool?: PgPoolLike;
}

/** Adapts a pg pool to the store's SQL client interface. */
export function postgresClient(pool: PgPoolLike, endPool: boolean): SqlClient {
  return {
    query: async <Row>(sql: string, parameters?: unknown[]) =>
      (await pool.query(sql, parameters)) as { rows: Row[] },
    transaction: async (work) => {
      const connection = await pool.connect();
      try {
        await connection.query('BEGIN');
        const result = await work({
          query: async <Row>(sql: string, parameters?: unknown[]) =>
            (await connection.query(sql, parameters)) as { rows: Row[] },
        });
        await connection.query('COMMIT');
        connection.release();
        return result;
      } catch (error) {
        await connection.query('ROLLBACK').catch(() => undefined);
        connection.release(true);
        throw error;
      }
    },
    close: async () => {
      if (endPool) await pool.end();
    },
  };
}

/**
 * Opens a collection on a Postgres server that has the pgvector extension available.
 *
 * @example
 * ```ts
 * const store = await createPostgresStore({ connectionString: process.env.DATABASE_URL, dimension: 384 });
 * ```
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<SqlVectorStore> {
  let pool = options.pool;
  const owned = pool === undefined;
  if (!pool) {
    if (!options.connectionString)
      throw new RagError('invalid_config', 'createPostgresStore: pass connectionString or pool');
    let Pool: new (config: { connectionString: string }) => PgPoolLike;
    try {
      const pg = (await import('pg')) as unknown as {
        default?: { Pool: typeof Pool };
        Pool: typeof Pool;
      };
      Pool = (pg.default ?? pg).Pool;
    } catch (error) {
      throw new RagError('unsupported', 'createPostgresStore needs the `pg` package: npm i pg', {
        cause: error,
      });
    }
    pool = new Pool({ connectionString: options.connectionString });
  }
  try {
    return await createSqlStore(postgresClient(pool, owned), options);
  } catch (error) {
    if (owned) await pool.end();
    throw error;
  }
}
