// An embedder for servers with OpenAI's embeddings API (POST {baseUrl}/embeddings): llama.cpp's
// server, Ollama, vLLM, text-embeddings-inference, OpenAI itself. Texts go in batches; each answer
// is checked (count, indices, dimension) before use; 429 and 5xx answers are retried with backoff.
import { RagError } from '../errors.js';
import { Pacer, type LongOperationOptions, throwIfAborted } from '../progress.js';
import type { Embedder } from './embedder.js';

/** Options of {@link createHttpEmbedder}. */
export interface HttpEmbedderOptions {
  /** The API root, e.g. `http://127.0.0.1:8080/v1` (llama.cpp) or `http://localhost:11434/v1` (Ollama). */
  baseUrl: string;
  /** Model name sent with each request. */
  model: string;
  /** Sent as `Authorization: Bearer ...` when given. */
  apiKey?: string;
  /** Texts per request. Default 64. */
  batchSize?: number;
  /** Expected vector length; answers of another length are an error. Learned from the first answer when omitted. */
  dimension?: number;
  /** Asks the server for shorter vectors (the API's `dimensions` field, for models that support it). */
  requestDimensions?: number;
  /** Retries of a request answered 429 or 5xx, or failing on the network. Default 2. */
  maxRetries?: number;
  /** Milliseconds before a request is abandoned. Default 60,000. */
  timeoutMs?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

interface EmbeddingsResponse {
  data?: { embedding: number[] | string; index: number }[];
}

/**
 * Creates an embedder that calls an OpenAI-compatible `/embeddings` endpoint.
 *
 * @example
 * ```ts
 * const embedder = createHttpEmbedder({ baseUrl: 'http://127.0.0.1:8080/v1', model: 'nomic-embed-text' });
 * const [vector] = await embedder.embed(['What is lift?']);
 * ```
 */
export function createHttpEmbedder(options: HttpEmbedderOptions): Embedder {
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RagError(
      'invalid_config',
      `createHttpEmbedder: batchSize is ${batchSize}, expected an integer >= 1`,
    );
  if (typeof options.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) {
    throw new RagError(
      'invalid_config',
      `createHttpEmbedder: baseUrl is ${JSON.stringify(options.baseUrl)}, expected an http(s) URL such as http://127.0.0.1:8080/v1`,
    );
  }
  const url = `${options.baseUrl.replace(/\/+$/, '')}/embeddings`;
  const maxRetries = options.maxRetries ?? 2;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const doFetch = options.fetch ?? fetch;
  let dimension = options.dimension;

  async function request(
    input: string[],
    signal: AbortSignal | undefined,
  ): Promise<Float32Array[]> {
    const body = JSON.stringify({
      model: options.model,
      input,
      encoding_format: 'float',
      ...(options.requestDimensions ? { dimensions: options.requestDimensions } : {}),
    });
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(signal, 'embed');
      const timeout = AbortSignal.timeout(timeoutMs);
      const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
      let response: Response;
      try {
        response = await doFetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
            ...options.headers,
          },
          body,
          signal: combined,
        });
      } catch (error) {
        throwIfAborted(signal, 'embed');
        if (attempt < maxRetries) {
          await sleep(backoff(attempt));
          continue;
        }
        throw new RagError(
          'http_error',
          `POST ${url}: ${(error as Error).message}${timeout.aborted ? ` (no answer in ${timeoutMs} ms)` : ''}`,
          { cause: error },
        );
      }
      if (response.ok) return parse(await response.json(), input.length);
      const text = (await response.text().catch(() => '')).slice(0, 300);
      if ((response.status === 429 || response.status >= 500) && attempt < maxRetries) {
        const retryAfter = Number(response.headers.get('retry-after'));
        await sleep(retryAfter > 0 ? Math.min(retryAfter * 1000, 30_000) : backoff(attempt));
        continue;
      }
      throw new RagError(
        'http_error',
        `POST ${url}: ${response.status} ${response.statusText}${text ? `: ${text}` : ''}`,
      );
    }
  }

  function parse(json: EmbeddingsResponse, expected: number): Float32Array[] {
    const data = json?.data;
    if (!Array.isArray(data) || data.length !== expected) {
      throw new RagError(
        'bad_response',
        `POST ${url}: expected data with ${expected} embeddings, got ${Array.isArray(data) ? data.length : JSON.stringify(json)?.slice(0, 200)}`,
      );
    }
    const out: Float32Array[] = new Array(expected);
    data.forEach((item, position) => {
      const index = Number.isInteger(item.index) ? item.index : position;
      if (index < 0 || index >= expected || out[index])
        throw new RagError(
          'bad_response',
          `POST ${url}: embedding index ${item.index} is out of range or repeated`,
        );
      const vector =
        typeof item.embedding === 'string'
          ? fromBase64(item.embedding)
          : Float32Array.from(item.embedding);
      dimension ??= vector.length;
      if (vector.length !== dimension) {
        throw new RagError(
          'dimension_mismatch',
          `POST ${url}: embedding ${index} has dimension ${vector.length}, expected dimension ${dimension}`,
        );
      }
      out[index] = vector;
    });
    return out;
  }

  return {
    get dimension() {
      return dimension;
    },
    async embed(texts: string[], operation: LongOperationOptions = {}): Promise<Float32Array[]> {
      const pacer = new Pacer('embed', texts.length, operation, 0);
      const out: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += batchSize) {
        const batch = texts.slice(start, start + batchSize);
        out.push(...(await request(batch, operation.signal)));
        await pacer.tick(out.length);
      }
      pacer.finish();
      return out;
    },
  };
}

/** Decodes `encoding_format: "base64"` embeddings: little-endian float32. */
function fromBase64(text: string): Float32Array {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

function backoff(attempt: number): number {
  return 200 * 2 ** attempt;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
