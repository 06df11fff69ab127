import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@llmkit/backend-cpu/register';
import { getBackend, init, manualSeed, noGrad, setBackend } from '@llmkit/core-tensor';
import { getEncoding } from '@llmkit/tokenizer';
import { GPT, load } from '@llmkit/transformer';
import { afterAll, describe, expect, it } from 'vitest';
import { characterVocabulary, exportQuantizedGguf, gpt2Layout } from './gguf.js';
import { quantizedEmbeddings, quantizedLayers, quantizeModel } from './model.js';
import { followLlamaCpp, type LlamaCppContext } from './testing/follow-llama-cpp.js';

await setBackend(getBackend().name); // cpu when the addon loads: the 50257-token head is slow on js
const dir = mkdtempSync(join(tmpdir(), 'llmkit-quantize-gguf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A GPT-2-shaped model with weights livelier than GPT-2's init, so greedy ids are not a repeat. */
function model(seed: number): GPT {
  manualSeed(seed);
  const gpt = new GPT({ vocabSize: 50257, blockSize: 64, nLayer: 2, nHead: 2, nEmbd: 64 });
  noGrad(() => {
    for (const p of gpt.parameters()) if (p.rank === 2) init.normal(p, 0, 0.15);
  });
  return gpt.eval();
}

/** The ggml type and dims GGUF's tensor info records for `name`. */
/** A GGUF string as the file stores it: its u64 length, then its bytes. */
function ggufString(name: string): Buffer {
  const needle = Buffer.concat([Buffer.alloc(8), Buffer.from(name)]);
  needle.writeBigUInt64LE(BigInt(name.length));
  return needle;
}

/** Whether the file names a tensor `name`. */
function hasTensor(file: Buffer, name: string): boolean {
  return file.indexOf(ggufString(name)) >= 0;
}

function tensorInfo(file: Buffer, name: string): { type: number; dims: number[] } {
  const needle = ggufString(name);
  let at = file.indexOf(needle) + needle.length;
  const rank = file.readUInt32LE(at);
  at += 4;
  const dims = Array.from({ length: rank }, (_, i) => Number(file.readBigUInt64LE(at + 8 * i)));
  return { type: file.readUInt32LE(at + 8 * rank), dims };
}

describe('exportQuantizedGguf', () => {
  for (const [format, type] of [
    ['q8_0', 8],
    ['q4_0', 2],
  ] as const) {
    it(`writes ${format} layers as ggml type ${type} with llmkit's exact blocks, norms and biases f32`, async () => {
      const gpt = model(1);
      quantizeModel(gpt, { format, lmHead: true });
      const path = join(dir, `${format}.gguf`);
      await exportQuantizedGguf(gpt, path, { tokenizer: getEncoding('gpt2') });
      const file = readFileSync(path);
      expect(tensorInfo(file, 'blk.0.attn_qkv.weight')).toEqual({ type, dims: [64, 192] });
      expect(tensorInfo(file, 'output.weight')).toEqual({ type, dims: [64, 50257] });
      expect(tensorInfo(file, 'token_embd.weight').type).toBe(0);
      expect(tensorInfo(file, 'blk.1.attn_norm.weight').type).toBe(0);
      expect(tensorInfo(file, 'blk.1.ffn_up.bias').type).toBe(0);
      for (const [, layer] of quantizedLayers(gpt)) {
        const blocks = Buffer.from(layer.quantizedWeightSync().parts.weight as Uint8Array);
        expect(file.indexOf(blocks)).toBeGreaterThan(0);
      }
    }, 120_000);
  }
  it('writes quantized tables as ggml blocks, and no second copy of wte for the tied head', async () => {
    const gpt = model(4);
    quantizeModel(gpt, { format: 'q4_0', embeddings: true });
    const path = join(dir, 'tables.gguf');
    await exportQuantizedGguf(gpt, path, { tokenizer: getEncoding('gpt2') });
    const file = readFileSync(path);
    expect(tensorInfo(file, 'token_embd.weight')).toEqual({ type: 2, dims: [64, 50257] });
    expect(tensorInfo(file, 'position_embd.weight')).toEqual({ type: 2, dims: [64, 64] });
    expect(hasTensor(file, 'output.weight')).toBe(false); // llama.cpp reads the head from token_embd
    expect(hasTensor(file, 'output_norm.weight')).toBe(true);
    const [[, wte]] = quantizedEmbeddings(gpt);
    const blocks = Buffer.from(wte.quantizedWeightSync().parts.weight as Uint8Array);
    const first = file.indexOf(blocks);
    expect(first).toBeGreaterThan(0);
    expect(file.indexOf(blocks, first + blocks.length)).toBe(-1); // once: token_embd only
    const int8 = model(5);
    quantizeModel(int8, { format: 'int8', embeddings: true });
    await expect(
      exportQuantizedGguf(int8, join(dir, 'int8.gguf'), { tokenizer: getEncoding('gpt2') }),
    ).rejects.toThrow(/layer 'h.0.attn.c_attn' is 'int8'/);
  }, 120_000);
  it('rejects layers in a format llama.cpp does not get from here', async () => {
    const gpt = model(2);
    quantizeModel(gpt, { format: 'int8' });
    await expect(
      exportQuantizedGguf(gpt, join(dir, 'x.gguf'), { tokenizer: getEncoding('gpt2') }),
    ).rejects.toThrow(/layer 'h.0.attn.c_attn' is 'int8'; GGUF export writes 'q8_0' or 'q4_0'/);
    expect(existsSync(join(dir, 'x.gguf'))).toBe(false);
  }, 120_000);
});

/** The GGUF metadata string array `key` (after its name: type 9, item type 8, count, strings). */
function stringArray(file: Buffer, key: string): string[] {
  const needle = Buffer.concat([Buffer.alloc(8), Buffer.from(key)]);
  needle.writeBigUInt64LE(BigInt(key.length));
  let at = file.indexOf(needle) + needle.length;
  expect([file.readUInt32LE(at), file.readUInt32LE(at + 4)]).toEqual([9, 8]);
  const count = Number(file.readBigUInt64LE(at + 8));
  at += 16;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const length = Number(file.readBigUInt64LE(at));
    out.push(file.toString('utf8', at + 8, at + 8 + length));
    at += 8 + length;
  }
  return out;
}

describe('a character-level model in GGUF', () => {
  it("characterVocabulary: each character one byte-level token, no merges; gpt2Layout: GPT-2's layout, the same function", async () => {
    const chars = ['\n', ' ', '!', 'A', 'a', 'é', 'z'];
    manualSeed(7);
    const trained = new GPT({
      vocabSize: chars.length,
      blockSize: 16,
      nLayer: 1,
      nHead: 2,
      nEmbd: 64,
      bias: false,
      activation: 'gelu',
    }).eval();
    const gpt2 = gpt2Layout(trained);
    expect(gpt2.config).toMatchObject({ bias: true, qkvBias: true, activation: 'gelu-tanh' });
    expect(await gpt2.h.at(0).attn.c_attn.bias?.data()).toEqual(new Float32Array(192));
    const ids = [[0, 3, 4, 1, 6, 5, 2]];
    const a = await noGrad(() => trained.forward(ids).logits).data<Float32Array>();
    const b = await noGrad(() => gpt2.forward(ids).logits).data<Float32Array>();
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-3); // tanh GELU
    quantizeModel(gpt2, { format: 'q8_0', embeddings: true });
    const path = join(dir, 'chars.gguf');
    await exportQuantizedGguf(gpt2, path, { tokenizer: characterVocabulary(chars) });
    const file = readFileSync(path);
    expect(stringArray(file, 'tokenizer.ggml.tokens')).toEqual([
      'Ċ',
      'Ġ',
      '!',
      'A',
      'a',
      'Ã©',
      'z',
    ]);
    // exportGguf derives merges from the byte strings: only a multi-byte character has one.
    expect(stringArray(file, 'tokenizer.ggml.merges')).toEqual(['Ã ©']);
    expect(tensorInfo(file, 'token_embd.weight')).toEqual({ type: 8, dims: [64, 7] });
    expect(() => characterVocabulary(['a', 'b', 'a'])).toThrow(/chars\[2\] "a" repeats chars\[0\]/);
    expect(() => characterVocabulary(['ab'])).toThrow(/chars\[0\] is "ab"; expected one character/);
    expect(() => gpt2Layout(gpt2)).toThrow(/the model is quantized/);
  }, 120_000);
});

// llama.cpp itself (opt-in, as @llmkit/transformer's check: node-llama-cpp is ~700 MB):
// LLMKIT_NODE_LLAMA_CPP=<folder where npm i node-llama-cpp ran>.
const llamaFolder = process.env.LLMKIT_NODE_LLAMA_CPP;
const haveLlama = !!llamaFolder && existsSync(join(llamaFolder, 'node_modules', 'node-llama-cpp'));

describe.skipIf(!haveLlama)('Q8_0 / Q4_0 GGUF in llama.cpp (node-llama-cpp)', () => {
  for (const format of ['q8_0', 'q4_0'] as const) {
    it(`${format}: llama.cpp's greedy ids follow llmkit's quantized model for 32 tokens (near-ties aside)`, async () => {
      const require = createRequire(join(llamaFolder as string, 'package.json'));
      const { getLlama } = await import(require.resolve('node-llama-cpp'));
      const gpt = model(3);
      quantizeModel(gpt, { format, lmHead: true });
      const encoding = getEncoding('gpt2');
      const path = join(dir, `llama-${format}.gguf`);
      await exportQuantizedGguf(gpt, path, { tokenizer: encoding });
      const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
      const loaded = await llama.loadModel({ modelPath: path });
      const context = await loaded.createContext({ contextSize: 64, threads: 1 });
      const prompt = encoding.encode('The quick brown fox');
      const [ours] = await gpt.generate([prompt], { maxNewTokens: 32 });
      const mine = ours.slice(prompt.length);
      /** llama.cpp's greedy continuation of `prefix`, `count` tokens. */
      const continuation = async (prefix: number[], count: number) => {
        const sequence = context.getSequence();
        const out: number[] = [];
        for await (const token of sequence.evaluate(prefix, { temperature: 0 })) {
          out.push(token);
          if (out.length === count) break;
        }
        sequence.dispose();
        return out;
      };
      // llama.cpp rounds activations to 8 bits inside its Q8_0 / Q4_0 dot products, so where
      // llmkit's top two logits are nearly tied the other one may win. At each parting the margin
      // must be such a near-tie (< 0.05); llama.cpp then continues from llmkit's token.
      const ties: string[] = [];
      let agreedFirst = -1;
      let at = 0;
      while (at < mine.length) {
        const theirs = await continuation([...prompt, ...mine.slice(0, at)], mine.length - at);
        const part = theirs.findIndex((id, i) => id !== mine[at + i]);
        if (part < 0) break;
        at += part;
        if (agreedFirst < 0) agreedFirst = at;
        const logits = noGrad(
          () => gpt.forward([[...prompt, ...mine.slice(0, at)]], { lastOnly: true }).logits,
        );
        const row = Array.from(await logits.data<Float32Array>()).sort((x, y) => y - x);
        logits.dispose();
        ties.push(`token ${at}: margin ${(row[0] - row[1]).toFixed(4)}`);
        expect(row[0] - row[1], `${format} parts at token ${at}`).toBeLessThan(0.05);
        at++;
      }
      console.log(
        `${format}: llama.cpp's greedy ids ${agreedFirst < 0 ? "equal llmkit's for all 32 tokens" : `equal llmkit's for the first ${agreedFirst}`}; near-ties: ${ties.join(', ') || 'none'}`,
      );
      expect(ties.length).toBeLessThanOrEqual(3);
      expect(new Set(mine).size).toBeGreaterThan(1);
      await context.dispose();
      await loaded.dispose();
    }, 400_000);
  }
});

// The trained model (opt-in too): LLMKIT_QUANTIZE_RUN=<a llmkit train --preset shakespeare-char
// run folder>, in GPT-2's layout (gpt2Layout), quantized with its embeddings, written with its
// character vocabulary; llama.cpp is fed token ids.
const runFolder = process.env.LLMKIT_QUANTIZE_RUN;
const haveRun = !!runFolder && existsSync(join(runFolder, 'run.json'));
if (!haveLlama || !haveRun)
  console.log(
    `skipped: llama.cpp on the trained model needs ${[!haveLlama && 'LLMKIT_NODE_LLAMA_CPP=<folder where npm i node-llama-cpp ran>', !haveRun && 'LLMKIT_QUANTIZE_RUN=<a llmkit train run folder>'].filter(Boolean).join(' and ')}`,
  );

describe.skipIf(!haveLlama || !haveRun)('the trained shakespeare-char model in llama.cpp', () => {
  for (const format of ['q8_0', 'q4_0'] as const) {
    it(`${format}: llama.cpp's greedy ids follow llmkit's for 48 tokens from 4 prompts (partings only at near-ties)`, async () => {
      const require = createRequire(join(llamaFolder as string, 'package.json'));
      const { getLlama } = await import(require.resolve('node-llama-cpp'));
      const run = JSON.parse(readFileSync(join(runFolder as string, 'run.json'), 'utf8'));
      const chars: string[] = run.tokenizer.chars;
      const gpt = gpt2Layout((await load(runFolder as string)) as GPT).eval();
      quantizeModel(gpt, { format, embeddings: true });
      const path = join(dir, `trained-${format}.gguf`);
      await exportQuantizedGguf(gpt, path, { tokenizer: characterVocabulary(chars) });
      const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
      const loaded = await llama.loadModel({ modelPath: path });
      // One thread: a model this small is all thread wake-ups with two on a busy machine.
      const context = await loaded.createContext({ contextSize: gpt.config.blockSize, threads: 1 });
      const text = readFileSync(run.data, 'utf8');
      const validation = text.slice(Math.floor(text.length * 0.9));
      const report: string[] = [];
      for (const offset of [0, 10_000, 50_000, 100_000]) {
        const prompt = Array.from(validation.slice(offset, offset + 16), (c) => chars.indexOf(c));
        const [ours] = await gpt.generate([prompt], { maxNewTokens: 48 });
        const result = await follow(gpt, context, prompt, ours.slice(prompt.length));
        report.push(
          `prompt at ${offset}: ${result.first < 0 ? 'all 48 equal' : `first ${result.first} equal`}${result.ties.length ? `, near-ties ${result.ties.join(', ')}` : ''}`,
        );
        expect(result.ties.length, report.at(-1)).toBeLessThanOrEqual(2);
        // the issue's bar: the same greedy ids for at least the first 32 tokens (8-bit
        // activations do llama.cpp's arithmetic; a near-tie may still part them after that)
        expect(result.first < 0 || result.first >= 32, report.at(-1)).toBe(true);
        expect(new Set(ours).size).toBeGreaterThan(4);
      }
      console.log(`${format}: ${report.join('; ')}`);
      await context.dispose();
      await loaded.dispose();
    }, 600_000);
  }
});

/**
 * Where llama.cpp's greedy continuation parts from llmkit's `mine`: at each parting llmkit's logit
 * of its own token must beat llama.cpp's token by less than 0.05 (a near-tie: llama.cpp rounds
 * activations to 8 bits in its Q8_0 / Q4_0 dot products and has its own GELU), and llama.cpp then
 * continues from llmkit's token. `first` is the first parting (-1: none).
 */
async function follow(
  gpt: GPT,
  context: LlamaCppContext,
  prompt: number[],
  mine: number[],
): Promise<{ first: number; ties: string[] }> {
  const { first, at, margins } = await followLlamaCpp(gpt, context, prompt, mine);
  const ties = margins.map((margin, i) => `token ${at[i]} by ${margin.toFixed(4)}`);
  for (const [i, margin] of margins.entries())
    expect(margin, `parts at token ${at[i]}`).toBeLessThan(0.05);
  return { first, ties };
}
