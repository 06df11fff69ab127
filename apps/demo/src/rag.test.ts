import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJson, llmkit } from './testing/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'llmkit-rag-cli-'));
const docs = join(dir, 'docs');
const store = join(dir, 'store');

const FILES: Record<string, string> = {
  'aerodynamics/lift.md':
    '# Lift\n\nWings make lift when air flows faster over the upper surface than under the lower one.\n\n## Angle of attack\n\nRaising the angle of attack increases lift, until the airflow separates and the wing stalls.\n',
  'aerodynamics/drag.md':
    '# Drag\n\nDrag grows with the square of airspeed. Streamlined fairings reduce pressure drag; smooth paint reduces skin friction.\n',
  'engines.md':
    '# Engines\n\nA turbofan bypasses most of its air around the core, which makes it quieter and more efficient than a turbojet.\n\n# Propellers\n\nPropellers turn shaft power into thrust by pushing air backwards.\n',
  'notes/landing.txt':
    'Landing checklist: flaps down, gear down and locked, speed checked. Flare just above the runway.\n',
};

beforeAll(() => {
  for (const [name, text] of Object.entries(FILES)) {
    mkdirSync(join(docs, name, '..'), { recursive: true });
    writeFileSync(join(docs, name), text);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Cited {
  number: number;
  sourceId: string;
  start: number;
  end: number;
  text: string;
}

function ask(question: string, ...flags: string[]) {
  const run = llmkit('rag', 'ask', question, '--json', ...flags);
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {
    mode: string;
    retrieval: string;
    answer: string;
    citations: Cited[];
    sources: Cited[];
  };
}

/** Every cited passage is exactly its file's text between its offsets. */
function expectExactOffsets(citations: Cited[], root = docs) {
  for (const c of citations)
    expect(readFileSync(join(root, c.sourceId), 'utf8').slice(c.start, c.end)).toBe(c.text);
}

describe('llmkit rag', () => {
  it('indexes a folder of Markdown and text, then answers with the right file and offsets', () => {
    const indexed = llmkit('rag', 'index', docs, '--store', store, '--json', '--chunk-size', '200');
    expect(indexed.status, indexed.stderr).toBe(0);
    const lines = indexed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.some((l) => l.event === 'progress' && l.phase === 'store')).toBe(true);
    const summary = lastJson(indexed.stdout);
    expect(summary).toMatchObject({ files: 4, indexed_files: 4, retrieval: 'bm25' });
    expect(summary.chunks).toBeGreaterThanOrEqual(5); // lift.md and engines.md have two sections each
    expect(summary.store_chunks).toBe(summary.chunks);

    const result = ask('What happens when the angle of attack is raised?', '--store', store);
    expect(result.mode).toBe('extractive');
    expect(result.retrieval).toBe('bm25');
    const [first] = result.citations;
    expect(first.sourceId).toBe('aerodynamics/lift.md');
    const lift = FILES['aerodynamics/lift.md'];
    expect(first.start).toBe(lift.indexOf('## Angle of attack'));
    expect(first.end).toBe(lift.length - 1); // the trailing newline is not part of the chunk
    expect(first.text).toBe(lift.slice(first.start, first.end));
    expect(result.answer).toContain('[1] ## Angle of attack');
    expectExactOffsets(result.sources);

    const landing = ask('landing gear and flaps checklist', '--store', store, '--k', '1');
    expect(landing.citations.map((c) => c.sourceId)).toEqual(['notes/landing.txt']);

    // human output names the mode and the sources
    const human = llmkit('rag', 'ask', 'turbofan bypass air', '--store', store);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stderr).toMatch(/no --checkpoint or --generator: extractive answer/);
    expect(human.stdout).toMatch(/Answer \(extractive\):\n\[1\] # Engines/);
    expect(human.stdout).toMatch(/Sources:\n\[1\] engines\.md, characters 0-\d+/);
  });

  it('re-indexes only changed files and replaces their chunks', () => {
    const changed = FILES['aerodynamics/drag.md'].replace('Streamlined fairings', 'Winglets');
    writeFileSync(join(docs, 'aerodynamics/drag.md'), changed);
    const again = llmkit('rag', 'index', docs, '--store', store, '--json', '--chunk-size', '200');
    expect(again.status, again.stderr).toBe(0);
    expect(lastJson(again.stdout)).toMatchObject({ indexed_files: 1, unchanged_files: 3 });
    const result = ask('winglets', '--store', store);
    expect(result.citations[0].sourceId).toBe('aerodynamics/drag.md');
    expectExactOffsets(result.citations);
    expect(ask('streamlined fairings', '--store', store).citations).toEqual([]);
    writeFileSync(join(docs, 'aerodynamics/drag.md'), FILES['aerodynamics/drag.md']);
  });

  it('fuses BM25 with vectors from an OpenAI-compatible embedding server', async () => {
    // bag of words hashed into 64 dimensions: a crude but real embedding, served on loopback
    const embed = (text: string) => {
      const vector = new Array<number>(64).fill(0);
      for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
        let h = 7;
        for (const c of word) h = (h * 31 + c.charCodeAt(0)) % 64;
        vector[h] += 1;
      }
      return vector;
    };
    let requests = 0;
    const server: Server = createServer(async (request, response) => {
      let body = '';
      for await (const chunk of request) body += chunk;
      const { input } = JSON.parse(body) as { input: string[] };
      requests++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ data: input.map((t, index) => ({ index, embedding: embed(t) })) }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    const hybrid = join(dir, 'hybrid');
    try {
      const indexed = await llmkitAsync(
        ...['rag', 'index', docs, '--store', hybrid, '--json', '--chunk-size', '200'],
        ...['--embedder', url, '--embedder-model', 'bag-of-words'],
      );
      expect(indexed.status, indexed.stderr).toBe(0);
      expect(lastJson(indexed.stdout)).toMatchObject({ retrieval: 'hybrid' });
      const asked = await llmkitAsync(
        'rag',
        'ask',
        'propellers thrust',
        '--store',
        hybrid,
        '--json',
      );
      expect(asked.status, asked.stderr).toBe(0);
      const result = JSON.parse(asked.stdout);
      expect(result.retrieval).toBe('hybrid');
      expect(result.citations[0].sourceId).toBe('engines.md');
      expect(result.citations[0].text).toMatch(/^# Propellers/);
      expectExactOffsets(result.citations);
      expect(requests).toBeGreaterThanOrEqual(2); // the chunks, then the question
    } finally {
      server.close();
    }
    // the store remembers its embedder: without flags it is kept, another one is refused
    const same = llmkit('rag', 'index', docs, '--store', hybrid, '--chunk-size', '200', '--json');
    expect(same.status, same.stderr).toBe(0);
    expect(lastJson(same.stdout)).toMatchObject({ indexed_files: 0, retrieval: 'hybrid' });
    const mismatch = llmkit(
      ...['rag', 'index', docs, '--store', hybrid, '--chunk-size', '200'],
      ...['--embedder', 'http://127.0.0.1:1/v1', '--embedder-model', 'other'],
    );
    expect(mismatch.status).toBe(2);
    expect(mismatch.stderr).toMatch(
      /was indexed with embedder bag-of-words at http:\/\/127\.0\.0\.1/,
    );
  });

  it('trains an encoder embedder on the Markdown headings and retrieves with it', () => {
    const embedder = join(dir, 'embedder');
    const trained = llmkit(
      ...['rag', 'train-embedder', '--from-markdown', docs, '--out', embedder, '--json'],
      ...['--epochs', '30', '--n-embd', '32', '--n-head', '2', '--vocab-size', '320'],
      ...['--max-length', '64', '--learning-rate', '3e-3', '--batch-size', '8'],
    );
    expect(trained.status, trained.stderr).toBe(0);
    const summary = lastJson(trained.stdout);
    expect(summary).toMatchObject({ pairs: 5, steps: 30, dimension: 32 });
    expect(summary.last_loss).toBeLessThan(summary.first_loss);
    const vectors = join(dir, 'vectors');
    const indexed = llmkit(
      ...['rag', 'index', docs, '--store', vectors, '--json', '--chunk-size', '200'],
      ...['--embedder-checkpoint', embedder],
    );
    expect(indexed.status, indexed.stderr).toBe(0);
    expect(lastJson(indexed.stdout)).toMatchObject({ retrieval: 'hybrid', files: 4 });
    const result = ask('propellers and thrust', '--store', vectors);
    expect(result.retrieval).toBe('hybrid');
    expect(result.citations[0].sourceId).toBe('engines.md');
    expectExactOffsets(result.sources);
    // the store names its embedder when the checkpoint has gone
    renameSync(embedder, `${embedder}-moved`);
    const lost = llmkit('rag', 'ask', 'propellers', '--store', vectors);
    expect(lost.status).toBe(2);
    expect(lost.stderr).toMatch(
      /the store's embedder encoder checkpoint .*embedder .*no embedder\.json here/,
    );
  });

  it('answers through an OpenAI-compatible chat server, citing what it cites', async () => {
    // a stand-in model: it cites the source that mentions the turbofan, by its number
    const prompts: string[] = [];
    const server: Server = createServer(async (request, response) => {
      let body = '';
      for await (const chunk of request) body += chunk;
      const { messages, model } = JSON.parse(body);
      const prompt: string = messages[0].content;
      prompts.push(prompt);
      const number = /\[(\d+)\] \(engines\.md[^\n]*\n# Engines/.exec(prompt)?.[1];
      const content = `A turbofan sends most of its air around the core [${number}].`;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ model, choices: [{ message: { role: 'assistant', content } }] }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    try {
      const asked = await llmkitAsync(
        ...['rag', 'ask', 'Why is a turbofan quiet?', '--store', store, '--json'],
        ...['--generator', url, '--generator-model', 'stand-in'],
      );
      expect(asked.status, asked.stderr).toBe(0);
      const result = JSON.parse(asked.stdout);
      expect(result.mode).toBe('generated');
      expect(result.answer).toMatch(/around the core \[\d\]\.$/);
      expect(result.citations).toHaveLength(1);
      expect(result.citations[0].sourceId).toBe('engines.md');
      expect(result.citations[0].start).toBe(0);
      expectExactOffsets(result.citations);
      expect(prompts[0]).toMatch(
        /Cite every source you use[\s\S]*Question: Why is a turbofan quiet\?\nAnswer:$/,
      );
    } finally {
      server.close();
    }
  });

  it('generates with an llmkit checkpoint and lists the sources it was given', () => {
    const text = join(dir, 'text.txt');
    writeFileSync(text, Object.values(FILES).join('\n').repeat(3));
    const run = join(dir, 'run');
    const trained = llmkit('train', '--data', text, '--max-steps', '2', '--out', run, '--json');
    expect(trained.status, trained.stderr).toBe(0);
    const asked = llmkit(
      ...['rag', 'ask', 'turbofan bypass', '--store', store, '--checkpoint', run],
      ...['--max-new-tokens', '12'],
    );
    expect(asked.status, asked.stderr).toBe(0);
    expect(asked.stdout).toMatch(/^Answer:\n/);
    expect(asked.stdout).toMatch(/Sources:\n\[1\] engines\.md, characters 0-/);
    const result = ask('turbofan bypass', '--store', store, '--checkpoint', run);
    expect(result.mode).toBe('generated');
    expect(result.answer.length).toBeGreaterThan(0);
    expect(result.sources[0].sourceId).toBe('engines.md');
  });

  it('explains bad input in one line and exits with status 2', () => {
    const empty = join(dir, 'empty');
    mkdirSync(join(empty, 'sub'), { recursive: true });
    writeFileSync(join(empty, 'sub', 'image.png'), 'not text');
    const badPairs = join(dir, 'pairs.jsonl');
    writeFileSync(badPairs, '{"query": "lift", "positive": "wings"}\n{"query": "drag"}\n');
    const cases: [string[], RegExp][] = [
      [['rag', 'index', join(dir, 'missing')], /missing: no such folder/],
      [
        ['rag', 'index', empty, '--store', store],
        /no \.md, \.markdown or \.txt files .*nothing to index/,
      ],
      [['rag', 'index', join(docs, 'engines.md')], /engines\.md: not a folder/],
      [['rag', 'index'], /expected one folder to index, got none/],
      [
        ['rag', 'index', docs, '--store', store, '--chunk-size', '100'],
        /was indexed with --chunk-size 200/,
      ],
      [
        ['rag', 'index', docs, '--embedder', 'http://127.0.0.1:1/v1'],
        /needs --embedder-model NAME/,
      ],
      [['rag', 'index', docs, '--embedder', 'localhost'], /expected an http\(s\) URL/],
      [
        ['rag', 'index', docs, '--chunk-size', '10', '--chunk-overlap', '10'],
        /expected less than --chunk-size 10/,
      ],
      [
        ['rag', 'index', docs, '--embedder-checkpoint', dir, '--store', join(dir, 's2')],
        /no embedder\.json here/,
      ],
      [
        ['rag', 'ask', 'lift?', '--store', join(dir, 'nothing')],
        /no index here; build one with llmkit rag index DIR/,
      ],
      [['rag', 'ask'], /expected one question in quotes/],
      [['rag', 'ask', 'lift', '--store', store, '--k', '0'], /--k 0: expected an integer >= 1/],
      [['rag', 'ask', 'lift', '--store', store, '--checkpoint', dir], /no run\.json here/],
      [
        ['rag', 'ask', 'lift', '--store', store, '--generator', 'http://127.0.0.1:1/v1'],
        /needs --generator-model NAME/,
      ],
      [
        [
          'rag',
          'ask',
          'lift',
          '--store',
          store,
          '--generator',
          'http://127.0.0.1:1/v1',
          '--generator-model',
          'm',
        ],
        /--generator: POST http:\/\/127\.0\.0\.1:1\/v1\/chat\/completions: fetch failed/,
      ],
      [['rag', 'search'], /unknown subcommand "search"; expected index, ask or train-embedder/],
      [['rag', 'train-embedder', '--from-markdown', docs], /--out DIR is required/],
      [
        ['rag', 'train-embedder', '--out', join(dir, 'e')],
        /give --pairs FILE\.jsonl or --from-markdown DIR/,
      ],
      [
        ['rag', 'train-embedder', '--pairs', badPairs, '--out', join(dir, 'e')],
        /line 2 needs string fields "query" and "positive"/,
      ],
      [
        ['rag', 'train-embedder', '--from-markdown', join(docs, 'notes'), '--out', join(dir, 'e')],
        /found 0 pairs, expected at least 2/,
      ],
      [['rag', 'index', docs, '--frobnicate'], /Unknown option '--frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const { status, stdout, stderr } = llmkit(...args);
      expect(status, args.join(' ')).toBe(2);
      expect(stdout + stderr, args.join(' ')).toMatch(message);
    }
    const help = llmkit('rag', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: llmkit rag index DIR/);
    expect(llmkit('--help').stdout).toMatch(/rag\s+Retrieval-augmented answers/);
  });
});

/** Like `llmkit()`, without blocking this process (a server here must answer the child). */
function llmkitAsync(
  ...args: string[]
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
