// Metadata filters, one language for every index and store. A filter is an object whose keys are
// metadata fields and whose values are either a value (equality) or one operator object:
//
//   { lang: 'en', year: { $gte: 2020 }, tag: { $in: ['a', 'b'] } }   // all must hold
//
// Operators: $eq, $ne, $in, $nin, $gt, $gte, $lt, $lte, $exists. The in-memory indexes also take a
// function `(id, metadata) => boolean`; the SQL stores translate objects to SQL over a jsonb column
// (see stores/sql.ts) and reject functions.
import { RagError } from './errors.js';
import type { Metadata } from './splitters/chunk.js';

/** A scalar a filter compares with. */
export type FilterValue = string | number | boolean | null;

/** One operator applied to one metadata field. */
export interface FilterOperators {
  /** Equal to. */
  $eq?: FilterValue;
  /** Not equal to (a missing field counts as not equal). */
  $ne?: FilterValue;
  /** Equal to one of. */
  $in?: FilterValue[];
  /** Equal to none of. */
  $nin?: FilterValue[];
  /** Greater than (numbers, or strings in code-unit order). */
  $gt?: number | string;
  /** Greater than or equal to. */
  $gte?: number | string;
  /** Less than. */
  $lt?: number | string;
  /** Less than or equal to. */
  $lte?: number | string;
  /** The field is present (true) or absent (false). */
  $exists?: boolean;
}

/** A metadata filter object: every field's condition must hold. */
export type MetadataFilter = Record<string, FilterValue | FilterOperators>;

/** A filter: an object (works everywhere) or a predicate (in-memory indexes only). */
export type Filter = MetadataFilter | ((id: string, metadata: Metadata) => boolean);

const OPERATORS = new Set(['$eq', '$ne', '$in', '$nin', '$gt', '$gte', '$lt', '$lte', '$exists']);

/** True when `value` is an operator object rather than a plain value. */
export function isOperatorObject(value: unknown): value is FilterOperators {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a filter's shape, so a typo such as `$gtee` fails at once and names itself. */
export function validateFilter(filter: Filter | undefined): void {
  if (filter === undefined || typeof filter === 'function') return;
  if (typeof filter !== 'object' || filter === null) {
    throw new RagError(
      'unsupported_filter',
      `filter is ${JSON.stringify(filter)}, expected an object or a function`,
    );
  }
  for (const [field, condition] of Object.entries(filter)) {
    if (!isOperatorObject(condition)) continue;
    for (const operator of Object.keys(condition)) {
      if (!OPERATORS.has(operator)) {
        throw new RagError(
          'unsupported_filter',
          `filter on ${JSON.stringify(field)}: unknown operator ${operator}, expected one of ${[...OPERATORS].join(', ')}`,
        );
      }
    }
  }
}

/** Whether a record passes the filter. An absent filter passes everything. */
export function matchesFilter(filter: Filter | undefined, id: string, metadata: Metadata): boolean {
  if (filter === undefined) return true;
  if (typeof filter === 'function') return filter(id, metadata);
  for (const field in filter) {
    const condition = filter[field];
    const present = Object.hasOwn(metadata, field);
    const value = metadata[field];
    if (!isOperatorObject(condition)) {
      if (!present || value !== condition) return false;
      continue;
    }
    if (condition.$exists !== undefined && present !== condition.$exists) return false;
    if (condition.$eq !== undefined && (!present || value !== condition.$eq)) return false;
    if (condition.$ne !== undefined && present && value === condition.$ne) return false;
    if (condition.$in !== undefined && (!present || !condition.$in.includes(value as FilterValue)))
      return false;
    if (condition.$nin !== undefined && present && condition.$nin.includes(value as FilterValue))
      return false;
    if (condition.$gt !== undefined && !compare(value, condition.$gt, (a, b) => a > b))
      return false;
    if (condition.$gte !== undefined && !compare(value, condition.$gte, (a, b) => a >= b))
      return false;
    if (condition.$lt !== undefined && !compare(value, condition.$lt, (a, b) => a < b))
      return false;
    if (condition.$lte !== undefined && !compare(value, condition.$lte, (a, b) => a <= b))
      return false;
  }
  return true;
}

function compare(
  value: unknown,
  bound: number | string,
  test: (a: number | string, b: number | string) => boolean,
): boolean {
  return typeof value === typeof bound && test(value as number | string, bound);
}
