// An OpenAI-compatible HTTP server over one llmkit model: POST /v1/chat/completions and
// /v1/completions (streaming with server-sent events), GET /v1/models. Requests run one at a
// time, in arrival order; a client that disconnects cancels its generation. Errors are
// OpenAI-style JSON (`{ error: { message, type, param, code } }`) with the matching HTTP status,
// and the server keeps serving.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ChatMessage } from '@llmkit/tokenizer';
import type { ChatModel } from './chat-model.js';

/** An OpenAI-style error with its HTTP status. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

const MAX_BODY = 4 * 1024 * 1024;

/** The sampling fields both endpoints accept, checked as OpenAI checks them. */
interface Sampling {
  maxTokens: number;
  temperature: number;
  topP: number;
  stop: string[];
  seed: number | undefined;
  stream: boolean;
}

function number(
  body: Record<string, unknown>,
  field: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = body[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
    throw new ApiError(
      400,
      `${JSON.stringify(value)} is not valid for '${field}': expected a number in [${min}, ${max}]`,
      'invalid_request_error',
      field,
      'invalid_value',
    );
  return value;
}

function samplingOf(body: Record<string, unknown>, contextLeft: number): Sampling {
  const maxTokens = number(
    body,
    body.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens',
    Math.min(256, contextLeft),
    1,
    1e9,
  );
  if (!Number.isInteger(maxTokens))
    throw new ApiError(
      400,
      `max_tokens must be an integer, got ${maxTokens}`,
      'invalid_request_error',
      'max_tokens',
      'invalid_value',
    );
  const n = number(body, 'n', 1, 1, 1);
  void n;
  let stop: string[] = [];
  if (typeof body.stop === 'string') stop = [body.stop];
  else if (
    Array.isArray(body.stop) &&
    body.stop.every((s) => typeof s === 'string') &&
    body.stop.length <= 4
  )
    stop = body.stop as string[];
  else if (body.stop !== undefined && body.stop !== null)
    throw new ApiError(
      400,
      "'stop' must be a string or an array of at most 4 strings",
      'invalid_request_error',
      'stop',
      'invalid_value',
    );
  const seed =
    body.seed === undefined || body.seed === null
      ? undefined
      : number(body, 'seed', 0, -(2 ** 53), 2 ** 53);
  return {
    maxTokens: Math.min(maxTokens, contextLeft),
    temperature: number(body, 'temperature', 1, 0, 2),
    topP: number(body, 'top_p', 1, 0, 1),
    stop: stop.filter((s) => s.length > 0),
    seed,
    stream: body.stream === true,
  };
}

function messagesOf(body: Record<string, unknown>): ChatMessage[] {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0)
    throw new ApiError(
      400,
      "'messages' must be a non-empty array",
      'invalid_request_error',
      'messages',
      'invalid_value',
    );
  return messages.map((m, i) => {
    const role = (m as { role?: unknown })?.role;
    let content = (m as { content?: unknown })?.content;
    // content parts: keep the text ones
    if (Array.isArray(content))
      content = content.map((p) => (p?.type === 'text' ? String(p.text ?? '') : '')).join('');
    if (
      typeof role !== 'string' ||
      !['system', 'developer', 'user', 'assistant'].includes(role) ||
      typeof content !== 'string'
    )
      throw new ApiError(
        400,
        `messages[${i}] must have a role (system, developer, user, assistant) and string content`,
        'invalid_request_error',
        `messages[${i}]`,
        'invalid_value',
      );
    return { role: role === 'developer' ? 'system' : role, content };
  });
}

async function readBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ApiError(413, `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new ApiError(
      400,
      `the body is not valid JSON: ${(error as Error).message}`,
      'invalid_request_error',
      null,
      'invalid_json',
    );
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ApiError(400, 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

/** What one generation produced. */
interface Generated {
  text: string;
  promptTokens: number;
  completionTokens: number;
  finishReason: 'stop' | 'length';
}

/**
 * Generates from `prompt`, calling `onDelta` with each new piece of text. Text is decoded whole
 * and the new suffix sent, so a character split across tokens is sent once it is complete; a stop
 * string ends generation and is not sent.
 */
async function generate(
  chat: ChatModel,
  prompt: string,
  sampling: Sampling,
  signal: AbortSignal,
  onDelta: (text: string) => void,
): Promise<Generated> {
  const ids = chat.encode(prompt);
  const doSample = sampling.temperature > 0;
  const generated: number[] = [];
  let sent = 0;
  let text = '';
  let finishReason: 'stop' | 'length' = 'length';
  const stream = chat.model.stream([ids], {
    maxNewTokens: sampling.maxTokens,
    ...(doSample ? { doSample: true, temperature: sampling.temperature, topP: sampling.topP } : {}),
    ...(sampling.seed !== undefined ? { seed: sampling.seed } : {}),
    ...(chat.stopTokenIds.length ? { eosTokenId: chat.stopTokenIds } : {}),
    signal,
  });
  for await (const event of stream) {
    if (chat.stopTokenIds.includes(event.token)) {
      finishReason = 'stop';
      break;
    }
    generated.push(event.token);
    text = chat.decode(generated);
    const stopAt = sampling.stop
      .map((s) => text.indexOf(s, Math.max(0, sent - s.length)))
      .filter((i) => i >= 0);
    if (stopAt.length > 0) {
      text = text.slice(0, Math.min(...stopAt));
      finishReason = 'stop';
      if (text.length > sent) onDelta(text.slice(sent));
      sent = text.length;
      break;
    }
    // hold back what may be the start of a stop string, and an incomplete character
    let safe = text.endsWith('\ufffd') ? text.length - 1 : text.length;
    for (const s of sampling.stop)
      for (let k = Math.min(s.length - 1, text.length); k > 0; k--)
        if (text.endsWith(s.slice(0, k))) {
          safe = Math.min(safe, text.length - k);
          break;
        }
    if (safe > sent) {
      onDelta(text.slice(sent, safe));
      sent = safe;
    }
    if (event.finishReason === 'eos') finishReason = 'stop';
  }
  if (text.length > sent && finishReason === 'length') onDelta(text.slice(sent));
  return { text, promptTokens: ids.length, completionTokens: generated.length, finishReason };
}

/** Options of {@link startOpenAiServer}. */
export interface ServeOptions {
  /** Port (0 picks a free one). */
  port: number;
  /** Address to bind; loopback by default, so the model is not exposed to the network. */
  host?: string;
}

/** Starts the server; resolves once it listens, with the server and its address. */
export async function startOpenAiServer(
  chat: ChatModel,
  options: ServeOptions,
): Promise<{ server: Server; url: string }> {
  const created = Math.floor(Date.now() / 1000);
  let queue: Promise<void> = Promise.resolve();
  const blockSize = chat.model.config.blockSize;

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '');
    if (request.method === 'GET' && path === '/v1/models') {
      sendJson(response, 200, {
        object: 'list',
        data: [{ id: chat.name, object: 'model', created, owned_by: 'llmkit' }],
      });
      return;
    }
    if (request.method === 'GET' && path === `/v1/models/${chat.name}`) {
      sendJson(response, 200, { id: chat.name, object: 'model', created, owned_by: 'llmkit' });
      return;
    }
    const chatPath = path === '/v1/chat/completions';
    if (!chatPath && path !== '/v1/completions')
      throw new ApiError(
        404,
        `unknown endpoint ${request.method} ${url.pathname}`,
        'invalid_request_error',
        null,
        'unknown_url',
      );
    if (request.method !== 'POST')
      throw new ApiError(
        405,
        `${url.pathname} takes POST`,
        'invalid_request_error',
        null,
        'method_not_allowed',
      );
    const body = await readBody(request);
    if (body.model !== undefined && body.model !== chat.name)
      throw new ApiError(
        404,
        `The model '${String(body.model)}' does not exist; this server serves '${chat.name}'`,
        'invalid_request_error',
        'model',
        'model_not_found',
      );
    let prompt: string;
    if (chatPath) prompt = chat.renderChat(messagesOf(body));
    else {
      if (typeof body.prompt !== 'string')
        throw new ApiError(
          400,
          "'prompt' must be a string",
          'invalid_request_error',
          'prompt',
          'invalid_value',
        );
      prompt = body.prompt;
    }
    const promptLength = chat.encode(prompt).length;
    if (promptLength >= blockSize)
      throw new ApiError(
        400,
        `the prompt has ${promptLength} tokens; this model's context is ${blockSize}`,
        'invalid_request_error',
        'messages',
        'context_length_exceeded',
      );
    const sampling = samplingOf(body, blockSize - promptLength);
    const id = `${chatPath ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`;
    const controller = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) controller.abort();
    });
    // one generation at a time; later requests wait their turn
    const run = queue.then(async () => {
      if (controller.signal.aborted) return;
      const object = chatPath ? 'chat.completion' : 'text_completion';
      if (sampling.stream) {
        response.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
        });
        const send = (value: unknown) => response.write(`data: ${JSON.stringify(value)}\n\n`);
        const chunk = (delta: Record<string, unknown>, finish: string | null) =>
          send({
            id,
            object: chatPath ? 'chat.completion.chunk' : 'text_completion',
            created: Math.floor(Date.now() / 1000),
            model: chat.name,
            choices: [
              chatPath
                ? { index: 0, delta, finish_reason: finish }
                : { index: 0, text: delta.content ?? '', finish_reason: finish },
            ],
          });
        if (chatPath) chunk({ role: 'assistant', content: '' }, null);
        try {
          const result = await generate(chat, prompt, sampling, controller.signal, (piece) =>
            chunk({ content: piece }, null),
          );
          if (!controller.signal.aborted) {
            chunk({}, result.finishReason);
            response.write('data: [DONE]\n\n');
          }
        } catch (error) {
          if (!controller.signal.aborted)
            send({
              error: {
                message: (error as Error).message,
                type: 'server_error',
                param: null,
                code: null,
              },
            });
        }
        response.end();
        return;
      }
      const result = await generate(chat, prompt, sampling, controller.signal, () => {});
      if (controller.signal.aborted) return;
      sendJson(response, 200, {
        id,
        object,
        created: Math.floor(Date.now() / 1000),
        model: chat.name,
        choices: [
          chatPath
            ? {
                index: 0,
                message: { role: 'assistant', content: result.text },
                finish_reason: result.finishReason,
                logprobs: null,
              }
            : { index: 0, text: result.text, finish_reason: result.finishReason, logprobs: null },
        ],
        usage: {
          prompt_tokens: result.promptTokens,
          completion_tokens: result.completionTokens,
          total_tokens: result.promptTokens + result.completionTokens,
        },
      });
    });
    queue = run.catch(() => {});
    await run;
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error) => {
      const api =
        error instanceof ApiError
          ? error
          : new ApiError(500, (error as Error).message, 'server_error');
      if (response.headersSent) {
        response.end();
        return;
      }
      sendJson(response, api.status, {
        error: { message: api.message, type: api.type, param: api.param, code: api.code },
      });
    });
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolvePromise());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { server, url: `http://${options.host ?? '127.0.0.1'}:${port}/v1` };
}
