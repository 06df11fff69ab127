import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpEmbedder } from './http-embedder.js';

// a small OpenAI-compatible server: embedding of a text = [length, vowels, index in batch], answers
// in reverse order (clients must use `index`), fails the first request of texts starting with "flaky"
const requests: { authorization?: string; body: { model: string; input: string[] } }[] = [];
let flakyFailures = 0;
let server: Server;
let baseUrl = '';

async function readBody(request: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of request) body += chunk;
  return body;
}

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const body = JSON.parse(await readBody(request));
    requests.push({ authorization: request.headers.authorization, body });
    if (request.url !== '/v1/embeddings' || request.method !== 'POST') {
      response.writeHead(404).end('not found');
      return;
    }
    if (body.input[0] === 'bad') {
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad input"}');
      return;
    }
    if (body.input[0].startsWith('flaky') && flakyFailures++ === 0) {
      response.writeHead(503).end('busy');
      return;
    }
    const data = body.input.map((text: string, index: number) => ({
      object: 'embedding',
      index,
      embedding:
        text === 'short' ? [1] : [text.length, (text.match(/[aeiou]/g) ?? []).length, index],
    }));
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ object: 'list', data: data.reverse(), model: body.model }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('createHttpEmbedder', () => {
  it('posts batches to /v1/embeddings and returns vectors in input order', async () => {
    requests.length = 0;
    const embedder = createHttpEmbedder({
      baseUrl,
      model: 'test-model',
      apiKey: 'secret',
      batchSize: 2,
    });
    const progress: number[] = [];
    const vectors = await embedder.embed(['air', 'foil', 'lift', 'drag', 'wing'], {
      onProgress: (p) => progress.push(p.done),
    });
    expect(vectors.map((v) => Array.from(v))).toEqual([
      [3, 2, 0],
      [4, 2, 1],
      [4, 1, 0],
      [4, 1, 1],
      [4, 1, 0],
    ]);
    expect(vectors[0]).toBeInstanceOf(Float32Array);
    expect(requests.map((r) => r.body.input)).toEqual([
      ['air', 'foil'],
      ['lift', 'drag'],
      ['wing'],
    ]);
    expect(requests[0]).toMatchObject({
      authorization: 'Bearer secret',
      body: { model: 'test-model' },
    });
    expect(progress).toEqual([2, 4, 5, 5]);
    expect(embedder.dimension).toBe(3);
  });

  it('retries a 503, then reports a 400 with the status and body', async () => {
    const embedder = createHttpEmbedder({ baseUrl, model: 'm' });
    expect((await embedder.embed(['flaky text']))[0][0]).toBe(10);
    expect(flakyFailures).toBe(2);
    await expect(embedder.embed(['bad'])).rejects.toThrow(
      `POST ${baseUrl}/embeddings: 400 Bad Request: {"error":"bad input"}`,
    );
  });

  it('names both dimensions when the server changes vector length', async () => {
    const embedder = createHttpEmbedder({ baseUrl, model: 'm', dimension: 3 });
    await expect(embedder.embed(['short'])).rejects.toThrow(
      'embedding 0 has dimension 1, expected dimension 3',
    );
  });

  it('stops on abort and reports an unreachable server', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      createHttpEmbedder({ baseUrl, model: 'm' }).embed(['x'], { signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'aborted' });
    const down = createHttpEmbedder({
      baseUrl: 'http://127.0.0.1:1/v1',
      model: 'm',
      maxRetries: 0,
    });
    await expect(down.embed(['x'])).rejects.toMatchObject({ code: 'http_error' });
  });
});
