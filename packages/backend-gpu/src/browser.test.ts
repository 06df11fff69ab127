// The backend in headless Chromium (Debian's `chromium`, driven by playwright-core): the source
// is compiled to ESM, served from 127.0.0.1 with an import map, and the page runs GPT-2's
// forward pass on the gpt2-tiny fixture (fixtures/ at the repository root; without it, a small MLP checked against the
// js backend in the page) on navigator.gpu. Chromium's adapter here is SwiftShader's software
// Vulkan (flag --enable-unsafe-webgpu); where Chromium offers none, the test says so and skips.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const coreDist = join(packageRoot, '../core-tensor/dist');
const utilsDist = join(packageRoot, '../utils/dist');
const fixture = join(packageRoot, '../../fixtures/gpt2-tiny');
const chromiumPath = '/usr/bin/chromium';

function missing(): string | undefined {
  if (!existsSync(chromiumPath)) return `${chromiumPath} is absent (apt-get install chromium)`;
  if (!existsSync(join(coreDist, 'index.js')))
    return 'core-tensor is not built (pnpm exec turbo run build)';
  return undefined;
}
const reason = missing();
if (reason) console.warn(`browser test skipped: ${reason}`);

const PAGE = `<!doctype html>
<script type="importmap">{ "imports": { "@llmkit/core-tensor": "/core-tensor/index.js", "@llmkit/core-tensor/backend": "/core-tensor/backend-api.js", "@llmkit/utils": "/utils/index.js" } }</script>
<script type="module">
import * as core from '@llmkit/core-tensor';
import { registerBackend } from '@llmkit/core-tensor/backend';
import { createWebGpuBackend } from '/backend-gpu/backend.js';
import { gpt2Forward } from '/backend-gpu/test-support/gpt2.js';
window.result = (async () => {
  let backend;
  try { backend = await createWebGpuBackend(); } catch (error) { return { skipped: error.message }; }
  registerBackend('webgpu', () => backend, 30);
  await core.setBackend('webgpu');
  const adapter = backend.adapterDescription;
  const fixture = await fetch('/fixture/config.json');
  if (fixture.ok) {
    const config = await fixture.json();
    const load = async (name) => core.readSafetensors(new Uint8Array(await (await fetch('/fixture/' + name)).arrayBuffer()));
    const weights = await load('model.safetensors');
    const reference = await load('reference.safetensors');
    const logits = core.noGrad(() => gpt2Forward(weights, config, reference.input_ids.to('int32')));
    const [got, want] = [await logits.data(), await reference.logits.data()];
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    return { adapter, model: 'gpt2-tiny', worst, count: got.length };
  }
  // No fixture: a small MLP, the same seed on webgpu and js.
  const run = async (name) => {
    await core.setBackend(name);
    core.manualSeed(3);
    const model = new core.Sequential(new core.Linear(8, 32), new core.Lambda((h) => h.gelu()), new core.Linear(32, 4));
    return model.forward(core.randn([16, 8])).softmax(-1).data();
  };
  const [got, want] = [await run('webgpu'), await run('js')];
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  return { adapter, model: 'mlp', worst, count: got.length };
})();
</script>`;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.html': 'text/html',
};

describe.skipIf(reason !== undefined)('headless Chromium', () => {
  let server: Server;
  let build: string;
  beforeAll(() => {
    build = mkdtempSync(join(tmpdir(), 'llmkit-backend-gpu-browser-'));
    // Test files are compiled too (they are never loaded); test-support/gpt2.ts is needed.
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(
      process.execPath,
      [
        tsc,
        '-p',
        join(packageRoot, 'tsconfig.json'),
        '--outDir',
        build,
        '--noCheck',
        '--declaration',
        'false',
        '--declarationMap',
        'false',
        '--sourceMap',
        'false',
      ],
      { stdio: 'pipe' },
    );
    const roots: Record<string, string> = {
      'core-tensor': coreDist,
      utils: utilsDist,
      'backend-gpu': build,
      fixture,
    };
    server = createServer((request, response) => {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
      if (path === '/') {
        response.setHeader('content-type', 'text/html');
        response.end(PAGE);
        return;
      }
      const [, root, ...rest] = path.split('/');
      const base = roots[root];
      const file = base ? normalize(join(base, ...rest)) : '';
      if (!base || !file.startsWith(base) || !existsSync(file)) {
        response.statusCode = 404;
        response.end();
        return;
      }
      response.setHeader('content-type', TYPES[extname(file)] ?? 'application/octet-stream');
      response.end(readFileSync(file));
    });
    return new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }, 120_000);
  afterAll(() => {
    server?.close();
    if (build) rmSync(build, { recursive: true, force: true });
  });

  it('runs a forward pass on navigator.gpu, or says there is no adapter', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--enable-unsafe-webgpu',
      ],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await page
        .waitForFunction(() => 'result' in window, undefined, { timeout: 30_000 })
        .catch(() => undefined);
      expect(errors).toEqual([]);
      const result = (await page.evaluate(
        () => (window as unknown as { result: Promise<unknown> }).result,
      )) as {
        skipped?: string;
        adapter?: string;
        model?: string;
        worst?: number;
        count?: number;
      };
      if (result.skipped) {
        console.warn(`browser test: Chromium offers no WebGPU adapter here: ${result.skipped}`);
        return;
      }
      console.log(
        `browser: ${result.model} on ${result.adapter}: ${result.count} values, largest difference ${result.worst?.toExponential(2)}`,
      );
      expect(result.count).toBeGreaterThan(0);
      expect(result.worst).toBeLessThan(1e-4);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
