// @llmkit/rag/eval: retrieval evaluation (nDCG@k, MAP, recall@k, MRR over qrels) and the
// Cranfield 1400 collection's readers (SMART format documents and queries, relevance judgements).
export {
  type Cranfield,
  type CranfieldDocument,
  type CranfieldQuery,
  loadCranfield,
  parseCranfieldQrels,
  parseSmart,
} from './eval/cranfield.js';
export {
  type EvaluateOptions,
  evaluateRetrieval,
  type QueryMetrics,
  type Qrels,
  type RetrievalMetrics,
  type Run,
} from './eval/metrics.js';
