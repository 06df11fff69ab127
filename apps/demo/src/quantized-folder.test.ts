// llmkit sample and llmkit eval on the --out folder of llmkit quantize (a quantization.json beside
// config.json): the CLI finds the quantization config and opens the packed model.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@llmkit/backend-cpu/register';
import { getBackend, setBackend } from '@llmkit/core-tensor';
import { loadQuantized, quantizedEmbeddings, quantizedLayers } from '@llmkit/quantize';
import { CharTokenizer } from '@llmkit/tokenizer';
import type { GPT } from '@llmkit/transformer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateText } from './generate.js';
import { openLanguageModel } from './run-folder.js';
import { lastJson, llmkit } from './testing/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'llmkit-quantized-folder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
await setBackend(getBackend().name);

const text = join(dir, 'text.txt');
const run = join(dir, 'run');
beforeAll(() => {
  writeFileSync(text, 'Now is the winter of our discontent made glorious summer.\n'.repeat(60));
  const trained = llmkit('train', '--data', text, '--max-steps', '3', '--out', run, '--json');
  expect(trained.status, trained.stderr).toBe(0);
}, 300_000);

describe('llmkit sample and eval open quantized folders', () => {
  // q8_0 takes 8-bit activations by default; int4 asks for them (kept in quantization.json, so
  // eval on the folder gets the report's loss back)
  for (const [format, embeddings, activations] of [
    ['q8_0', false, undefined],
    ['int4', true, 'int8'],
  ] as const) {
    it(`${format}${embeddings ? ' with --embeddings' : ''}${activations ? ` --activations ${activations}` : ''}: eval measures the quantized model, sample continues with it`, async () => {
      const out = join(dir, `${format}-${embeddings}`);
      const quantized = llmkit(
        'quantize',
        '--checkpoint',
        run,
        '--format',
        format,
        '--out',
        out,
        '--json',
        ...(embeddings ? ['--embeddings'] : []),
        ...(activations ? ['--activations', activations] : []),
      );
      expect(quantized.status, quantized.stderr).toBe(0);
      const report = lastJson(quantized.stdout);
      expect(report.activations).toBe('int8');
      const evaluated = llmkit('eval', '--checkpoint', out, '--json');
      expect(evaluated.status, evaluated.stderr).toBe(0);
      const summary = lastJson(evaluated.stdout);
      // The same validation split as quantize's report, on the model as loaded from the folder.
      expect(summary.tokens).toBe(report.tokens - 1);
      expect(summary.loss).toBeCloseTo(report.lossAfter, 3);
      expect(summary.step).toBeNull();

      const model = (await loadQuantized(out)) as GPT;
      expect(quantizedLayers(model).length).toBeGreaterThan(0);
      expect(quantizedEmbeddings(model).length).toBe(embeddings ? 2 : 0);
      const { tokenizer } = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
      const chars = CharTokenizer.fromJSON(tokenizer);
      const prompt = chars.encode('Now is');
      // What sample prints: the greedy continuation, by the CLI's own generation code.
      const expected = await generateText(model.eval(), chars, model.config.blockSize, prompt, {
        maxNewTokens: 24,
      });
      expect(expected.length).toBe(24);
      const sampled = llmkit(
        'sample',
        '--checkpoint',
        out,
        '--prompt',
        'Now is',
        '--greedy',
        '--max-new-tokens',
        '24',
      );
      expect(sampled.status, sampled.stderr).toBe(0);
      expect(sampled.stdout).toBe(`${expected}\n`);
    }, 300_000);
  }

  it('--activations takes int8 or float32, for the formats that take them', () => {
    const out = join(dir, 'bad-activations');
    const wrong = llmkit(
      'quantize',
      '--checkpoint',
      run,
      '--format',
      'q4_0',
      '--activations',
      'int4',
      '--out',
      out,
    );
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toContain('--activations int4: expected one of float32, int8');
    const nf4 = llmkit(
      'quantize',
      '--checkpoint',
      run,
      '--format',
      'nf4',
      '--activations',
      'int8',
      '--out',
      out,
    );
    expect(nf4.status).not.toBe(0);
    expect(nf4.stderr).toContain(
      "activations 'int8' takes int8, symmetric int4, q8_0 and q4_0, not 'nf4'",
    );
    expect(existsSync(out)).toBe(false);
  }, 300_000);

  it('commands that need a float model refuse a quantized folder with a clear error', async () => {
    const out = join(dir, 'refused');
    const quantized = llmkit('quantize', '--checkpoint', run, '--format', 'int8', '--out', out);
    expect(quantized.status, quantized.stderr).toBe(0);
    await expect(openLanguageModel(out)).rejects.toThrow(
      /a quantized model \(llmkit quantize wrote it\); this command needs a float run folder/,
    );
    const opened = await openLanguageModel(out, '--checkpoint', { quantized: true });
    expect(quantizedLayers(opened.model).length).toBeGreaterThan(0);
  }, 300_000);
});
