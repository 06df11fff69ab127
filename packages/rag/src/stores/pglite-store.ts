// The default persistent store: PGlite (Postgres compiled to WebAssembly, embedded in the
// process, no server) with its pgvector extension. Same SQL and schema as the Postgres store.
import type { PGlite } from '@electric-sql/pglite';
import {
  createSqlStore,
  type SqlClient,
  type SqlStoreOptions,
  type SqlVectorStore,
} from './sql-store.js';

/** Options of {@link createPgliteStore}. */
export interface PgliteStoreOptions extends SqlStoreOptions {
  /** Directory of the database (created if missing); omit for a database in memory. */
  dataDir?: string;
  /** An open PGlite instance (with the `vector` extension) to use instead of opening one. */
  database?: PGlite;
}

/** Adapts a PGlite instance to the store's SQL client interface. */
export function pgliteClient(database: PGlite, closeDatabase: boolean): SqlClient {
  return {
    query: async <Row>(sql: string, parameters?: unknown[]) => ({
      rows: (await database.query<Row>(sql, parameters)).rows,
    }),
    transaction: (work) =>
      database.transaction((tx) =>
        work({
          query: async <Row>(sql: string, parameters?: unknown[]) => ({
            rows: (await tx.query<Row>(sql, parameters)).rows,
          }),
        }),
      ),
    close: async () => {
      if (closeDatabase) await database.close();
    },
  };
}

/**
 * Opens (or creates) a PGlite database with pgvector and a collection table in it.
 *
 * @example
 * ```ts
 * const store = await createPgliteStore({ dataDir: './rag-db', dimension: 3 });
 * await store.add([{ id: 'a', text: 'lift', vector: [1, 0, 0], metadata: { source: 'notes.md' } }]);
 * await store.search([1, 0.1, 0], { k: 1 }); // [ { id: 'a', score: 0.995..., text: 'lift', metadata: {...} } ]
 * await store.close();
 * ```
 */
export async function createPgliteStore(options: PgliteStoreOptions): Promise<SqlVectorStore> {
  let database = options.database;
  const owned = database === undefined;
  if (!database) {
    const { PGlite } = await import('@electric-sql/pglite');
    const { vector } = await import('@electric-sql/pglite/vector');
    database = await PGlite.create(options.dataDir ?? 'memory://', { extensions: { vector } });
  }
  try {
    return await createSqlStore(pgliteClient(database, owned), options);
  } catch (error) {
    if (owned) await database.close();
    throw error;
  }
}
