// `llmkit serve` answered by the official `openai` npm client, as a real client would call it:
// chat completions with and without streaming, stop, max_tokens, temperature, /v1/completions,
// /v1/models, a disconnect mid-stream, OpenAI-style errors, and 200 sequential requests with
// flat memory. The model is the random tiny Qwen3 checkpoint of the transformer package's
// fixtures with a character-level tokenizer.json (BPE without merges) and a ChatML-style template.
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memory } from '@llmkit/core-tensor';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { openChatModel } from './serve/chat-model.js';
import { startOpenAiServer } from './serve/openai-server.js';

const QWEN3 = fileURLToPath(
  new URL('../../../packages/transformer/fixtures/hf-families/qwen3/', import.meta.url),
);
const CHARS = [...' \nabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,!?'];
// special tokens outside the names that end a turn, so replies run to max_tokens (a random model
// would otherwise end at whichever stop token greedy decoding reaches first)
const SPECIAL = ['<|turn|>', '<|eot|>', '<|pad|>'];
const CHATML =
  "{% for message in messages %}{{ '<|turn|>' + message['role'] + '\\n' + message['content'] + '<|eot|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|turn|>assistant\\n' }}{% endif %}";

async function tinyModelFolder(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'llmkit-serve-')), 'tiny-qwen3');
  await cp(QWEN3, dir, { recursive: true });
  // a longer context than the fixture's 64 (RoPE has no weights), so long replies fit
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({ ...config, max_position_embeddings: 512 }),
  );
  const vocab = Object.fromEntries([...CHARS, ...SPECIAL].map((t, i) => [t, i]));
  const tokenizer = {
    added_tokens: SPECIAL.map((content) => ({
      id: vocab[content],
      content,
      special: true,
      normalized: false,
    })),
    decoder: { type: 'Fuse' },
    model: { type: 'BPE', vocab, merges: [], unk_token: null },
  };
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: CHATML }));
  return dir;
}

let server: Server;
let folder: string;
let url: string;
let client: OpenAI;

beforeAll(async () => {
  folder = await tinyModelFolder();
  const chat = await openChatModel(folder);
  ({ server, url } = await startOpenAiServer(chat, { port: 0 }));
  client = new OpenAI({ baseURL: url, apiKey: 'not-needed', maxRetries: 0 });
}, 120_000);

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const ask = [{ role: 'user' as const, content: 'Hello there' }];

describe('llmkit serve with the openai client', () => {
  it('lists the model', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['tiny-qwen3']);
  });

  it('answers a chat completion; streaming gives the same text in pieces', async () => {
    const reply = await client.chat.completions.create({
      model: 'tiny-qwen3',
      messages: ask,
      max_tokens: 12,
      temperature: 0,
    });
    const content = reply.choices[0].message.content ?? '';
    expect(reply.object).toBe('chat.completion');
    expect(reply.choices[0].message.role).toBe('assistant');
    expect(reply.usage?.completion_tokens).toBeLessThanOrEqual(12);
    // three special tokens plus one token per character of 'user\nHello there\nassistant\n'
    expect(reply.usage?.prompt_tokens).toBe(3 + 'user\nHello there\nassistant\n'.length);
    expect(reply.choices[0].finish_reason).toBe('length');
    expect(reply.usage?.completion_tokens).toBe(12);
    const stream = await client.chat.completions.create({
      model: 'tiny-qwen3',
      messages: ask,
      max_tokens: 12,
      temperature: 0,
      stream: true,
    });
    let streamed = '';
    let chunks = 0;
    let finish: string | null = null;
    for await (const chunk of stream) {
      chunks++;
      streamed += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(streamed).toBe(content);
    expect(chunks).toBeGreaterThan(2);
    expect(finish).toBe(reply.choices[0].finish_reason);
  });

  it('stops at a stop string (not included) and honours max_tokens', async () => {
    const full =
      (
        await client.chat.completions.create({
          model: 'tiny-qwen3',
          messages: ask,
          max_tokens: 30,
          temperature: 0,
        })
      ).choices[0].message.content ?? '';
    expect(full.length).toBeGreaterThan(6);
    const stop = full.slice(4, 6);
    const stopped = await client.chat.completions.create({
      model: 'tiny-qwen3',
      messages: ask,
      max_tokens: 30,
      temperature: 0,
      stop: [stop],
    });
    expect(stopped.choices[0].message.content).toBe(full.slice(0, full.indexOf(stop)));
    expect(stopped.choices[0].finish_reason).toBe('stop');
    const short = await client.chat.completions.create({
      model: 'tiny-qwen3',
      messages: ask,
      max_tokens: 3,
      temperature: 0,
    });
    expect(short.usage?.completion_tokens).toBe(3);
  });

  it('samples with temperature and a seed reproducibly; temperature 0 is greedy', async () => {
    const sampled = (seed: number) =>
      client.chat.completions.create({
        model: 'tiny-qwen3',
        messages: ask,
        max_tokens: 20,
        temperature: 1.5,
        seed,
      });
    const a = (await sampled(7)).choices[0].message.content;
    const b = (await sampled(7)).choices[0].message.content;
    const c = (await sampled(8)).choices[0].message.content;
    expect(a).toBe(b);
    expect([a, c].every((x) => typeof x === 'string')).toBe(true);
    const greedy = (
      await client.chat.completions.create({
        model: 'tiny-qwen3',
        messages: ask,
        max_tokens: 20,
        temperature: 0,
      })
    ).choices[0].message.content;
    expect(a === greedy && c === greedy).toBe(false);
  });

  it('serves /v1/completions', async () => {
    const completion = await client.completions.create({
      model: 'tiny-qwen3',
      prompt: 'Once upon a',
      max_tokens: 8,
      temperature: 0,
    });
    expect(completion.object).toBe('text_completion');
    expect(typeof completion.choices[0].text).toBe('string');
    expect(completion.usage?.prompt_tokens).toBe('Once upon a'.length);
  });

  it('answers bad requests with OpenAI-style errors and keeps serving', async () => {
    const raw = await fetch(`${url}/chat/completions`, {
      method: 'POST',
      body: '{"model": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(raw.status).toBe(400);
    expect((await raw.json()).error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_json',
    });
    await expect(
      client.chat.completions.create({ model: 'gpt-4o', messages: ask }),
    ).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    await expect(
      client.chat.completions.create({ model: 'tiny-qwen3', messages: ask, temperature: 5 }),
    ).rejects.toMatchObject({ status: 400, param: 'temperature' });
    await expect(
      client.chat.completions.create({ model: 'tiny-qwen3', messages: [] }),
    ).rejects.toMatchObject({ status: 400, param: 'messages' });
    const missing = await fetch(`${url}/embeddings`, { method: 'POST', body: '{}' });
    expect(missing.status).toBe(404);
    const still = await client.chat.completions.create({
      model: 'tiny-qwen3',
      messages: ask,
      max_tokens: 2,
      temperature: 0,
    });
    expect(still.choices).toHaveLength(1);
  });

  it('a client that disconnects mid-stream cancels its request; the next one is served', async () => {
    // how long 150 tokens take when nobody cancels
    const timed = performance.now();
    const full = await client.chat.completions.create({
      model: 'tiny-qwen3',
      messages: ask,
      max_tokens: 150,
      temperature: 0,
    });
    const fullMs = performance.now() - timed;
    const controller = new AbortController();
    const response = await fetch(`${url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'tiny-qwen3',
        messages: ask,
        max_tokens: 150,
        temperature: 0,
        stream: true,
      }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    await reader.read(); // the first chunk arrived
    controller.abort();
    const started = performance.now();
    const next = await client.chat.completions.create({
      model: 'tiny-qwen3',
      messages: ask,
      max_tokens: 2,
      temperature: 0,
    });
    expect(next.choices).toHaveLength(1);
    // a 150-token generation left running would hold the queue about fullMs; cancelled, it does not
    expect(full.usage?.completion_tokens).toBe(150);
    expect(performance.now() - started).toBeLessThan(fullMs / 2);
  });

  it('200 sequential requests leave tensor memory flat', async () => {
    const once = () =>
      client.chat.completions.create({
        model: 'tiny-qwen3',
        messages: ask,
        max_tokens: 3,
        temperature: 0,
      });
    await once();
    const before = memory();
    for (let i = 0; i < 200; i++) await once();
    const after = memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytes).toBe(before.bytes);
  }, 240_000);
});

describe('llmkit chat', () => {
  it('streams a reply to each line with the chat template, greedy with --temperature 0', async () => {
    const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
    const run = spawnSync(
      process.execPath,
      [
        cli,
        'chat',
        '--model',
        folder,
        '--temperature',
        '0',
        '--max-new-tokens',
        '12',
        '--backend',
        'js',
      ],
      {
        input: 'Hello there\nAnd again\n',
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const replies = run.stdout.split('\n').filter(Boolean);
    const first = await client.chat.completions.create({
      model: 'tiny-qwen3',
      messages: ask,
      max_tokens: 12,
      temperature: 0,
    });
    expect(replies[0]).toBe(first.choices[0].message.content?.split('\n')[0]);
  });

  it('llmkit sample --model continues a prompt as /v1/completions does (greedy)', async () => {
    const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
    const run = spawnSync(
      process.execPath,
      [
        cli,
        'sample',
        '--model',
        folder,
        '--prompt',
        'Once upon a',
        '--greedy',
        '--max-new-tokens',
        '8',
        '--backend',
        'js',
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(run.stderr).toBe('');
    const completion = await client.completions.create({
      model: 'tiny-qwen3',
      prompt: 'Once upon a',
      max_tokens: 8,
      temperature: 0,
    });
    expect(run.stdout).toBe(`${completion.choices[0].text}\n`);
  });

  it('names a folder that is not a model', () => {
    const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
    const run = spawnSync(process.execPath, [cli, 'serve', '--model', tmpdir()], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/neither a Hugging Face folder .* nor a llmkit run folder/);
  });
});
