// @llmkit/rag/sql: the SQL under the PGlite and Postgres stores, for a store over another SQL
// client (`createSqlStore` with any `SqlClient`) or for running the pgvector schema and the
// metadata filters by hand. Users of the stores need only `createPgliteStore` /
// `createPostgresStore` from `@llmkit/rag`.
export { pgliteClient } from './stores/pglite-store.js';
export { postgresClient } from './stores/postgres-store.js';
export { filterToSql, indexStatement, schemaStatements } from './stores/sql.js';
export { createSqlStore, type SqlClient } from './stores/sql-store.js';
