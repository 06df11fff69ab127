// The SQL shared by the PGlite store and the Postgres server store: one table per collection,
// pgvector's `vector(dimension)` column and HNSW index, metadata in jsonb. The same statements run
// on both, so a collection moves from PGlite to a server with pg_dump / COPY.
//
//   CREATE TABLE llmkit_chunks (id text PRIMARY KEY, text text NOT NULL DEFAULT '',
//     metadata jsonb NOT NULL DEFAULT '{}', embedding vector(384) NOT NULL);
//   CREATE INDEX llmkit_chunks_embedding_hnsw ON llmkit_chunks
//     USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
import { RagError } from '../errors.js';
import { type Filter, type FilterOperators, isOperatorObject, validateFilter } from '../filter.js';
import type { Metric } from '../vector/metric.js';

/** pgvector's operator class, distance operator and distance -> score expression per metric. */
export const PGVECTOR: Record<
  Metric,
  { opclass: string; operator: string; score: (distance: string) => string }
> = {
  cosine: { opclass: 'vector_cosine_ops', operator: '<=>', score: (d) => `1 - (${d})` },
  dot: { opclass: 'vector_ip_ops', operator: '<#>', score: (d) => `-(${d})` }, // <#> is the negative inner product
  l2: { opclass: 'vector_l2_ops', operator: '<->', score: (d) => `-(${d})` },
};

/** Quotes an identifier after checking it is a plain name (letters, digits, underscores). */
export function quoteIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) {
    throw new RagError(
      'invalid_config',
      `table name ${JSON.stringify(name)}: expected letters, digits and underscores, starting with a letter or underscore, at most 63 characters`,
    );
  }
  return `"${name}"`;
}

/** The statements that create the table (idempotent). */
export function schemaStatements(table: string, dimension: number): string[] {
  return [
    'CREATE EXTENSION IF NOT EXISTS vector',
    `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(table)} (id text PRIMARY KEY, text text NOT NULL DEFAULT '', metadata jsonb NOT NULL DEFAULT '{}', embedding vector(${dimension}) NOT NULL)`,
  ];
}

/** The statement that creates the table's HNSW index (idempotent). */
export function indexStatement(
  table: string,
  metric: Metric,
  hnsw: { m: number; efConstruction: number },
): string {
  const index = quoteIdentifier(`${table}_embedding_hnsw`);
  return `CREATE INDEX IF NOT EXISTS ${index} ON ${quoteIdentifier(table)} USING hnsw (embedding ${PGVECTOR[metric].opclass}) WITH (m = ${hnsw.m}, ef_construction = ${hnsw.efConstruction})`;
}

/** Formats a vector as pgvector's text input, `[1,2,3]`. */
export function vectorLiteral(vector: ArrayLike<number>): string {
  return `[${Array.prototype.join.call(vector, ',')}]`;
}

/** Parses pgvector's text output back into a Float32Array. */
export function parseVector(text: string): Float32Array {
  return Float32Array.from(text.slice(1, -1).split(','), Number);
}

/**
 * Translates a filter object into a SQL condition over the jsonb `metadata` column, with its
 * parameters numbered from `firstParameter`. Semantics match `matchesFilter`, except that string
 * ranges compare in the database's collation. Functions cannot be translated.
 *
 * @example
 * ```ts
 * filterToSql({ lang: 'en', year: { $gte: 2020 } }, 3);
 * // { sql: '(metadata @> $3::jsonb) AND (jsonb_typeof(metadata -> $5) = jsonb_typeof($4::jsonb) AND (metadata -> $5) >= $4::jsonb)',
 * //   parameters: [ '{"lang":"en"}', '2020', 'year' ] }
 * ```
 */
export function filterToSql(
  filter: Filter | undefined,
  firstParameter: number,
): { sql: string; parameters: unknown[] } {
  if (filter === undefined) return { sql: 'TRUE', parameters: [] };
  if (typeof filter === 'function') {
    throw new RagError(
      'unsupported_filter',
      'SQL stores take filter objects such as { lang: "en" }, not functions',
    );
  }
  validateFilter(filter);
  const parameters: unknown[] = [];
  const parameter = (value: unknown) => `$${firstParameter + parameters.push(value) - 1}`;
  const conditions: string[] = [];
  for (const [field, condition] of Object.entries(filter)) {
    const operators: FilterOperators = isOperatorObject(condition) ? condition : { $eq: condition };
    let key: string | null = null;
    const keyParameter = () => {
      key ??= parameter(field);
      return key;
    };
    const contains = (value: unknown) =>
      `metadata @> ${parameter(JSON.stringify({ [field]: value }))}::jsonb`;
    if (operators.$eq !== undefined) conditions.push(`(${contains(operators.$eq)})`);
    if (operators.$ne !== undefined) conditions.push(`(NOT (${contains(operators.$ne)}))`);
    if (operators.$in !== undefined) {
      conditions.push(
        `(COALESCE((metadata -> ${keyParameter()}) IN (SELECT jsonb_array_elements(${parameter(JSON.stringify(operators.$in))}::jsonb)), FALSE))`,
      );
    }
    if (operators.$nin !== undefined) {
      conditions.push(
        `(NOT COALESCE((metadata -> ${keyParameter()}) IN (SELECT jsonb_array_elements(${parameter(JSON.stringify(operators.$nin))}::jsonb)), FALSE))`,
      );
    }
    for (const [op, sqlOp] of [
      ['$gt', '>'],
      ['$gte', '>='],
      ['$lt', '<'],
      ['$lte', '<='],
    ] as const) {
      const bound = operators[op];
      if (bound === undefined) continue;
      const b = parameter(JSON.stringify(bound));
      conditions.push(
        `(jsonb_typeof(metadata -> ${keyParameter()}) = jsonb_typeof(${b}::jsonb) AND (metadata -> ${keyParameter()}) ${sqlOp} ${b}::jsonb)`,
      );
    }
    if (operators.$exists !== undefined) {
      conditions.push(
        `((metadata -> ${keyParameter()}) IS ${operators.$exists ? 'NOT ' : ''}NULL)`,
      );
    }
  }
  return { sql: conditions.length > 0 ? conditions.join(' AND ') : 'TRUE', parameters };
}
