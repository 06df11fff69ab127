import { CliError } from '../cli-error.js';
import { ragAsk } from './rag/ask.js';
import { ragIndex } from './rag/index-files.js';
import { ragTrainEmbedder } from './rag/train-embedder.js';

export const RAG_HELP = `usage: llmkit rag index DIR [--store PATH] [--json] [--chunk-size N] [--chunk-overlap N]
                      [--embedder URL --embedder-model NAME | --embedder-checkpoint DIR]
       llmkit rag ask "question" [--store PATH] [--k N] [--json]
                      [--checkpoint DIR | --generator URL --generator-model NAME]
       llmkit rag train-embedder (--pairs FILE.jsonl | --from-markdown DIR) --out DIR [--epochs N]

Retrieval-augmented answers from your Markdown and text files, with citations.
  index DIR               splits every .md/.markdown/.txt file under DIR (Markdown by section) into
                          chunks with exact character offsets, and indexes them for BM25 and, with an
                          embedder, for vector search in the store; files unchanged since the last
                          run are skipped, changed ones replaced. A bar on a terminal, JSON lines
                          when piped; --json prints JSON lines and a summary on stdout.
  ask "question"          retrieves passages (BM25 + vectors fused by rank when the store has
                          vectors, BM25 alone otherwise) and answers with numbered citations
                          (source file and character offsets). With --checkpoint DIR (the --out
                          folder of llmkit train) or --generator URL (an OpenAI-compatible
                          /v1/chat/completions server, with --generator-model NAME; key from
                          LLMKIT_GENERATOR_API_KEY) a model writes the answer; without one the
                          answer is extractive: the retrieved passages, each cited.
  train-embedder          trains a small encoder embedder (mean pooling, InfoNCE with in-batch
                          negatives) on {"query", "positive"} JSON lines, or on Markdown (each
                          heading path as the query, its section as the positive), and saves it
                          for --embedder-checkpoint. Options: --epochs N (10), --batch-size N (32),
                          --learning-rate F (1e-3), --temperature T (0.05), --vocab-size N (2000,
                          a BPE learned from the pairs), --max-length N (128 tokens), --n-layer N
                          (2), --n-head N (4), --n-embd N (128), named as the Encoder's config
                          (--layers, --heads, --width: their old names, still accepted), --seed N,
                          --json
  --store PATH            the store folder: a PGlite (Postgres + pgvector) database, the BM25 index
                          and a manifest (default .llmkit/rag)
  --embedder URL          vectors from an OpenAI-compatible /v1/embeddings server (llama.cpp,
                          Ollama, vLLM), with --embedder-model NAME; key from LLMKIT_EMBEDDER_API_KEY
  --embedder-checkpoint DIR
                          vectors from an llmkit encoder embedder (llmkit rag train-embedder, or
                          saveEncoderEmbedder from @llmkit/rag/encoder)
                          Without either, the store is BM25 only: llmkit ships no trained embedder,
                          and an untrained one would only add noise. ask uses the store's embedder.
  --chunk-size N          characters per chunk (default 1000); --chunk-overlap N (default
                          200, or a fifth of the chunk size when smaller)
  --k N                   passages to retrieve (default 4)
  --max-context-tokens N  budget of the sources in the prompt (default 1000 cl100k tokens; with
                          --checkpoint, characters: the model's block size less the question)
  --max-new-tokens N      tokens (characters for --checkpoint) to generate (default 200);
                          --temperature T samples instead of greedy decoding, --seed N
  --backend NAME          cpu, js or webgpu, for the encoder embedder and the checkpoint`;

/** `llmkit rag index|ask|train-embedder`. */
export async function rag(args: string[]): Promise<unknown> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === 'help' || rest.includes('--help')) {
    console.log(RAG_HELP);
    return undefined;
  }
  try {
    if (sub === 'index') return await ragIndex(rest);
    if (sub === 'ask') return await ragAsk(rest);
    if (sub === 'train-embedder') return await ragTrainEmbedder(rest);
  } catch (error) {
    // parseArgs reports unknown flags with a code; show them as usage mistakes
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
      throw new CliError(`${(error as Error).message}; see llmkit rag --help`);
    throw error;
  }
  throw new CliError(
    `unknown subcommand ${JSON.stringify(sub)}; expected index, ask or train-embedder`,
  );
}
