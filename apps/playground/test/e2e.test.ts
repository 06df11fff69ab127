// The playground in headless Chromium (Debian's, driven by playwright-core; never a browser
// download): the site is built with Vite, served from 127.0.0.1, and every view is driven as a
// user would, asserting on what the page shows. Screenshots of each view go to screenshots/.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const app = fileURLToPath(new URL('..', import.meta.url));
const dist = join(app, 'dist');
const shots = join(app, 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM);
if (skip) console.warn(`playground e2e skipped: ${CHROMIUM} is absent (apt-get install chromium)`);

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.md': 'text/markdown',
  '.txt': 'text/plain',
};

let server: Server;
let browser: Browser;
let page: Page;
let base: string;
const errors: string[] = [];

beforeAll(async () => {
  if (skip) return;
  await build({ root: app, logLevel: 'error' });
  server = createServer((request, response) => {
    const path = normalize(
      decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname),
    ).replace(/^(\.\.[/\\])+/, '');
    const file = join(dist, path.endsWith('/') ? `${path}index.html` : path);
    if (!file.startsWith(dist) || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    response.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(base);
  await page.waitForSelector('#tok-count[data-count]');
  mkdirSync(shots, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

const open = async (view: string) => {
  await page.click(`nav button[data-view="${view}"]`);
  await page.waitForFunction((v) => document.getElementById('view')?.dataset.view === v, view);
};
const shoot = (name: string) =>
  page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
const noErrorShown = async () => {
  expect(await page.locator('#error').isHidden()).toBe(true);
  expect(errors).toEqual([]);
};

describe.skipIf(skip)('playground in Chromium', () => {
  it('says which backend runs', async () => {
    const badge = await page.textContent('#backend');
    expect(badge).toMatch(/^backend: (webgpu|js)/);
  });

  it('tokenizer: colours tokens and counts them per encoding; bad input gets a message', async () => {
    await open('tokenizer');
    await page.fill('#tok-input', 'hello world');
    await page.waitForFunction(() => document.getElementById('tok-count')?.dataset.count === '2');
    expect(await page.locator('#tok-tokens span').count()).toBe(2);
    expect(await page.textContent('#tok-ids')).toBe('[15339, 1917]');
    expect(await page.locator('#tok-counts tr[data-encoding]').count()).toBe(3);
    await page.selectOption('#tok-encoding', 'gpt2');
    expect(await page.textContent('#tok-ids')).toBe('[31373, 995]');
    await page.fill('#tok-input', '');
    expect(await page.textContent('#tok-message')).toMatch(/Type or paste some text/);
    await page.fill('#tok-input', 'x'.repeat(250_000));
    expect(await page.textContent('#tok-message')).toMatch(/takes up to 200,000/);
    await page.setInputFiles('#tok-file', {
      name: 'image.png',
      mimeType: 'image/png',
      buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13, 0xff, 0xfe]),
    });
    await page.waitForFunction(() =>
      /does not look like text/.test(document.getElementById('tok-message')?.textContent ?? ''),
    );
    await page.fill(
      '#tok-input',
      'Tokenizers split text: "unbelievable" → un|believ|able. 東京 👋',
    );
    await shoot('tokenizer');
    await noErrorShown();
  });

  it('generate: sliders change the distribution after the processors; output streams', async () => {
    await open('generate');
    await page.waitForSelector('#probs-after[data-top]');
    const before = await page.getAttribute('#probs-after', 'data-top');
    const raw = await page.getAttribute('#probs-before', 'data-top');
    await page.$eval('#temperature', (input: HTMLInputElement) => {
      input.value = '0.3';
      input.dispatchEvent(new Event('input'));
    });
    await page.waitForFunction(
      (old) => document.getElementById('probs-after')?.dataset.top !== old,
      before,
    );
    // the raw softmax does not depend on the processors
    expect(await page.getAttribute('#probs-before', 'data-top')).toBe(raw);
    await page.$eval('#max-new-tokens', (input: HTMLInputElement) => {
      input.value = '40';
      input.dispatchEvent(new Event('input'));
    });
    await page.click('#generate');
    await page.waitForFunction(
      () => document.getElementById('gen-output')?.dataset.generated === '40',
      undefined,
      { timeout: 120_000 },
    );
    const text = (await page.textContent('#gen-output')) ?? '';
    expect(text.startsWith('ROMEO:\n')).toBe(true);
    expect(text.length).toBeGreaterThanOrEqual('ROMEO:\n'.length + 40);
    await shoot('generate');
    await noErrorShown();
  });

  it('attention: a causal heatmap per layer and head, rows summing to one', async () => {
    await open('attention');
    await page.waitForSelector('#att-canvas[data-tokens]');
    expect(await page.getAttribute('#att-canvas', 'data-tokens')).toBe(
      String('To be, or not to be'.length),
    );
    expect(Number(await page.getAttribute('#att-canvas', 'data-row-sum'))).toBeCloseTo(1, 3);
    expect(Number(await page.getAttribute('#att-canvas', 'data-upper'))).toBe(0);
    await page.selectOption('#att-layer', '1');
    await page.selectOption('#att-head', '2');
    await page.fill('#att-input', 'Hello');
    await page.waitForFunction(() => document.getElementById('att-canvas')?.dataset.tokens === '5');
    await page.fill('#att-input', '');
    expect(await page.textContent('#att-message')).toMatch(/Type or paste/);
    await page.fill('#att-input', 'To be, or not to be');
    await shoot('attention');
    await noErrorShown();
  });

  it('train: the loss falls in a Worker while the page stays responsive; stop, resume, sample', async () => {
    await open('train');
    await page.waitForFunction(
      () => (document.getElementById('train-text') as HTMLTextAreaElement).value.length > 1000,
    );
    await page.fill('#train-steps', '60');
    await page.click('#train-start');
    await page.waitForFunction(
      () => Number(document.getElementById('train-status')?.dataset.step) >= 10,
      undefined,
      { timeout: 120_000 },
    );
    // the main thread answers at once while the worker trains
    const t = Date.now();
    await page.evaluate(() => 1 + 1);
    expect(Date.now() - t).toBeLessThan(1000);
    await page.click('#train-stop');
    await page.waitForFunction(() =>
      /stopped/.test(document.getElementById('train-status')?.textContent ?? ''),
    );
    const pausedAt = Number(await page.getAttribute('#train-status', 'data-step'));
    expect(pausedAt).toBeLessThan(60);
    await page.click('#train-start');
    await page.waitForFunction(
      () => document.getElementById('train-status')?.dataset.step === '60',
      undefined,
      { timeout: 180_000 },
    );
    const first = Number(await page.getAttribute('#train-status', 'data-first'));
    const last = Number(await page.getAttribute('#train-status', 'data-last'));
    expect(last).toBeLessThan(first);
    await page.click('#train-sample');
    await page.waitForFunction(
      () => (document.getElementById('train-sample-output')?.textContent ?? '').length > 20,
      undefined,
      { timeout: 60_000 },
    );
    await shoot('train');
    await noErrorShown();
  });

  it('retrieve: an answer with numbered citations highlighted in their sources', async () => {
    await open('retrieve');
    await page.waitForFunction(() =>
      (document.getElementById('rag-docs') as HTMLTextAreaElement).value.includes('# BM25'),
    );
    await page.click('#rag-index');
    await page.waitForSelector('#rag-status[data-chunks]');
    await page.click('#rag-ask');
    await page.waitForSelector('#rag-answer[data-citations]');
    const answerText = (await page.textContent('#rag-answer')) ?? '';
    expect(answerText).toMatch(/\[1\]/);
    const firstSource = (await page.textContent('#rag-sources .source[data-number="1"]')) ?? '';
    expect(firstSource).toMatch(/BM25 ranks documents/);
    expect(await page.locator('#rag-sources mark').count()).toBeGreaterThan(0);
    await shoot('retrieve');
    await open('later');
    expect(await page.textContent('#gap-note')).toMatch(/not in the playground yet|still to come/);
    await noErrorShown();
  });
});
