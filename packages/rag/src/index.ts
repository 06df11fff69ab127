export { RagError, type RagErrorCode } from './errors.js';
export type { LongOperationOptions, Progress } from './progress.js';
export type {
  Chunk,
  ChunkSizeOptions,
  Metadata,
  SourceDocument,
  TextSplitter,
} from './splitters/chunk.js';
export {
  createMarkdownSplitter,
  type MarkdownSection,
  type MarkdownSplitterOptions,
  markdownSections,
} from './splitters/markdown.js';
export {
  createRecursiveCharacterSplitter,
  DEFAULT_SEPARATORS,
  type RecursiveCharacterSplitterOptions,
  type TokenCounter,
} from './splitters/recursive.js';
export {
  createTokenSplitter,
  type OffsetTokenizer,
  type TokenSplitterOptions,
} from './splitters/token.js';
export { type Analyzer, type AnalyzerOptions, createAnalyzer } from './bm25/analyzer.js';
export {
  type AnalyzedDocument,
  type Bm25Document,
  type Bm25Index,
  type Bm25Options,
  createBm25Index,
  type ResolvedBm25Options,
  type SearchOptions,
  type SearchResult,
} from './bm25/bm25-index.js';
export { loadBm25Index, saveBm25Index } from './bm25/persist.js';
export { ENGLISH_STOP_WORDS } from './bm25/stop-words.js';
export type { Filter, FilterOperators, FilterValue, MetadataFilter } from './filter.js';
export {
  createHnswIndex,
  type HnswIndex,
  type HnswIndexOptions,
  loadHnswIndex,
} from './hnsw/hnsw-index.js';
export { createFlatIndex, type FlatIndexOptions, loadFlatIndex } from './vector/flat-index.js';
export { type Metric, METRICS, type VectorLike } from './vector/metric.js';
export type { VectorIndex, VectorItem, VectorSearchOptions } from './vector/vector-index.js';
export {
  createMemoryStore,
  type MemoryStore,
  type MemoryStoreOptions,
  openMemoryStore,
} from './stores/memory-store.js';
export { createPgliteStore, type PgliteStoreOptions } from './stores/pglite-store.js';
export {
  createPostgresStore,
  type PgPoolLike,
  type PostgresStoreOptions,
} from './stores/postgres-store.js';
export type { SqlStoreOptions, SqlVectorStore } from './stores/sql-store.js';
export type {
  StoreRecord,
  StoreSearchOptions,
  StoreSearchResult,
  VectorStore,
} from './stores/store.js';
export type { Embedder } from './embedders/embedder.js';
export { createHttpEmbedder, type HttpEmbedderOptions } from './embedders/http-embedder.js';
export {
  type AnswerOptions,
  type AnswerResult,
  type AnswerTokenizer,
  answer,
  type Citation,
  defaultPrompt,
  fitPassages,
} from './answer.js';
export { type FusionOptions, reciprocalRankFusion } from './hybrid/fusion.js';
export { type MmrCandidate, type MmrOptions, maximalMarginalRelevance } from './hybrid/mmr.js';
export {
  createHybridRetriever,
  type HybridRetrieverOptions,
  type Passage,
  type Retriever,
} from './hybrid/retriever.js';
