import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from '@llmkit/transformer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJson, llmkit } from './testing/run-cli.js';

// llmkit finetune --method: parameter-efficient instruction tuning with @llmkit/peft
const dir = mkdtempSync(join(tmpdir(), 'llmkit-finetune-peft-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = join(dir, 'text.txt');
const base = join(dir, 'base');
const records = join(dir, 'records.jsonl');
beforeAll(() => {
  writeFileSync(
    text,
    'User: what is the answer?\nAssistant: the answer is yes, it is.\n'.repeat(40),
  );
  writeFileSync(
    records,
    [
      { prompt: 'what is the answer?', response: 'yes.' },
      { prompt: 'is it?', response: 'it is.' },
      { prompt: 'what is it?', response: 'the answer.' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n'),
  );
  const trained = llmkit('train', '--data', text, '--max-steps', '2', '--out', base, '--json');
  expect(trained.status, trained.stderr).toBe(0);
}, 120_000);

const tune = (out: string, ...flags: string[]) =>
  llmkit(
    ...['finetune', '--task', 'instruction', '--checkpoint', base, '--data', records],
    ...['--max-steps', '3', '--batch-size', '2', '--out', out, '--json', ...flags],
  );

describe('llmkit finetune --method', () => {
  it('lora: trains r (in + out) per c_attn, writes the PEFT adapter and the merged model', async () => {
    const out = join(dir, 'lora');
    const run = tune(out, '--method', 'lora', '--r', '4', '--alpha', '8');
    expect(run.status, run.stderr).toBe(0);
    const summary = lastJson(run.stdout) as Record<string, number | string>;
    const { nLayer, nEmbd } = JSON.parse(readFileSync(join(base, 'config.json'), 'utf8')).config;
    expect(summary.method).toBe('lora');
    expect(summary.trainable_parameters).toBe(nLayer * 4 * (nEmbd + 3 * nEmbd));
    expect(summary.peak_rss_mb).toBeGreaterThan(0);
    const config = JSON.parse(readFileSync(join(out, 'adapter', 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({
      peft_type: 'LORA',
      r: 4,
      lora_alpha: 8,
      target_modules: ['c_attn'],
    });
    expect(summary.adapter_bytes).toBe(
      statSync(join(out, 'adapter', 'adapter_model.safetensors')).size,
    );
    const merged = await load(out);
    expect(Object.keys(merged.stateDict()).some((k) => k.includes('lora'))).toBe(false);
  });

  it('qlora: trainable_percent counts the quantized base weights as parameters, as PEFT does', async () => {
    const run = tune(join(dir, 'qlora'), '--method', 'qlora', '--r', '4', '--alpha', '8');
    expect(run.status, run.stderr).toBe(0);
    const summary = lastJson(run.stdout) as Record<string, number | string>;
    const { nLayer, nEmbd } = JSON.parse(readFileSync(join(base, 'config.json'), 'utf8')).config;
    const trainable = nLayer * 4 * (nEmbd + 3 * nEmbd);
    expect(summary.trainable_parameters).toBe(trainable);
    // the base's every weight (packed to nf4 or not) plus the adapter's
    const all = (await load(base)).parameterCount() + trainable;
    expect(summary.trainable_percent).toBe(+((100 * trainable) / all).toFixed(3));
    expect(existsSync(join(dir, 'qlora', 'adapter', 'adapter_model.safetensors'))).toBe(true);
  });

  it('prompt-tuning: writes only the adapter', () => {
    const out = join(dir, 'prompt');
    const run = tune(out, '--method', 'prompt-tuning');
    expect(run.status, run.stderr).toBe(0);
    expect(lastJson(run.stdout).trainable_parameters).toBeGreaterThan(0);
    expect(existsSync(join(out, 'adapter', 'adapter_model.safetensors'))).toBe(true);
  });

  it('explains a bad method or target in one line', () => {
    const bad = tune(join(dir, 'bad'), '--method', 'dora');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--method dora: expected full, lora, qlora, ia3, prompt-tuning/);
    const missing = tune(join(dir, 'bad2'), '--method', 'lora', '--target-modules', 'q_proj');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(
      /--method lora: LoRA: targetModules \["q_proj"\] match no module/,
    );
  });
});
