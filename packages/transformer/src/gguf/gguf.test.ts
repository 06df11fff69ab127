import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init, manualSeed, noGrad } from '@llmkit/core-tensor';
import { getEncoding } from '@llmkit/tokenizer';
import { afterAll, describe, expect, it } from 'vitest';
import { GPT } from '../gpt/model.js';
import { llamaConfig } from '../gpt/config.js';
import { exportGguf } from './export.js';
import { byteToUnicode, ggufVocabulary } from './vocab.js';

const dir = mkdtempSync(join(tmpdir(), 'llmkit-gguf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small GGUF reader for the test: metadata and tensor infos, following the spec independently. */
function readGguf(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const take = (size: number) => {
    at += size;
    return at - size;
  };
  const u32 = () => view.getUint32(take(4), true);
  const u64 = () => Number(view.getBigUint64(take(8), true));
  const str = () => {
    const n = u64();
    at += n;
    return new TextDecoder().decode(bytes.subarray(at - n, at));
  };
  const value = (type: number): unknown => {
    if (type === 4) return u32();
    if (type === 5) return view.getInt32(take(4), true);
    if (type === 6) return view.getFloat32(take(4), true);
    if (type === 7) return bytes[at++] === 1;
    if (type === 8) return str();
    if (type === 9) {
      const inner = u32();
      return Array.from({ length: u64() }, () => value(inner));
    }
    throw new Error(`type ${type}`);
  };
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  at = 4;
  const version = u32();
  const tensorCount = u64();
  const kvCount = u64();
  const metadata: Record<string, unknown> = {};
  for (let i = 0; i < kvCount; i++) {
    const key = str();
    metadata[key] = value(u32());
  }
  const tensors = Array.from({ length: tensorCount }, () => {
    const name = str();
    const dims = Array.from({ length: u32() }, () => u64());
    return { name, dims, type: u32(), offset: u64() };
  });
  const dataStart = Math.ceil(at / 32) * 32;
  return { magic, version, metadata, tensors, dataStart };
}

describe('GPT-2 vocabulary for GGUF', () => {
  it('maps bytes like GPT-2 and recovers the 50,000 merges in rank order', () => {
    expect(byteToUnicode()[32]).toBe('Ġ');
    expect(byteToUnicode()[10]).toBe('Ċ');
    const { tokens, types, merges } = ggufVocabulary(getEncoding('gpt2'));
    expect(tokens).toHaveLength(50257);
    expect(tokens[220]).toBe('Ġ');
    expect(tokens[50256]).toBe('<|endoftext|>');
    expect(types[50256]).toBe(3);
    expect(merges).toHaveLength(50000);
    expect(merges.slice(0, 3)).toEqual(['Ġ t', 'Ġ a', 'h e']); // the head of GPT-2's merges.txt
  });
});

describe('exportGguf', () => {
  it('writes the gpt2 layout: names, shapes (innermost first), types, aligned data, metadata', async () => {
    manualSeed(0);
    const model = new GPT({ vocabSize: 50257, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 8 });
    const path = join(dir, 'tiny-f16.gguf');
    await exportGguf(model, path, { dtype: 'f16', tokenizer: getEncoding('gpt2') });
    const bytes = new Uint8Array(readFileSync(path));
    const file = readGguf(bytes);
    expect(file.magic).toBe('GGUF');
    expect(file.version).toBe(3);
    expect(file.metadata['general.architecture']).toBe('gpt2');
    expect(file.metadata['gpt2.block_count']).toBe(1);
    expect(file.metadata['gpt2.feed_forward_length']).toBe(32);
    expect((file.metadata['tokenizer.ggml.merges'] as string[]).length).toBe(50000);
    const byName = Object.fromEntries(file.tensors.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(
      [
        'token_embd.weight',
        'position_embd.weight',
        'output_norm.weight',
        'output_norm.bias',
        ...['attn_norm', 'attn_qkv', 'attn_output', 'ffn_norm', 'ffn_up', 'ffn_down'].flatMap(
          (p) => [`blk.0.${p}.weight`, `blk.0.${p}.bias`],
        ),
      ].sort(),
    );
    expect(byName['blk.0.attn_qkv.weight'].dims).toEqual([8, 24]); // [out, in] reversed
    expect(byName['blk.0.attn_qkv.weight'].type).toBe(1); // f16
    expect(byName['blk.0.attn_qkv.bias'].type).toBe(0); // 1-D stays f32
    for (const t of file.tensors) expect(t.offset % 32).toBe(0);
    // the data of one f32 tensor is the parameter's bytes
    const bias = byName['blk.0.ffn_down.bias'];
    const stored = new Float32Array(
      bytes.slice(file.dataStart + bias.offset, file.dataStart + bias.offset + 32).buffer,
    );
    expect(Array.from(stored)).toEqual(
      Array.from(await model.h.at(0).mlp.c_proj.bias!.data<Float32Array>()),
    );
    model.dispose();
  });

  it('rejects models without a gpt2 layout and mismatched vocabularies, naming the field', async () => {
    manualSeed(1);
    const llama = new GPT(
      llamaConfig({ vocabSize: 50257, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 }),
    );
    await expect(
      exportGguf(llama, join(dir, 'x.gguf'), { tokenizer: getEncoding('gpt2') }),
    ).rejects.toThrow(/positionEncoding/);
    const small = new GPT({ vocabSize: 100, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 });
    await expect(
      exportGguf(small, join(dir, 'x.gguf'), { tokenizer: getEncoding('gpt2') }),
    ).rejects.toThrow(/vocabSize is 100/);
    llama.dispose();
    small.dispose();
  });
});

// Opt-in: llama.cpp itself (node-llama-cpp ships it prebuilt, ~700 MB with every platform's binaries,
// so it is not a workspace dependency). Point LLMKIT_NODE_LLAMA_CPP at a folder where
// `npm i node-llama-cpp` ran.
const llamaFolder = process.env.LLMKIT_NODE_LLAMA_CPP;
const haveLlama = !!llamaFolder && existsSync(join(llamaFolder, 'node_modules', 'node-llama-cpp'));
if (!haveLlama)
  console.warn(
    'skipping llama.cpp check: set LLMKIT_NODE_LLAMA_CPP to a folder with node-llama-cpp installed',
  );

describe.skipIf(!haveLlama)('exportGguf in llama.cpp (node-llama-cpp)', () => {
  it('loads, and greedy decoding gives llmkit ids', async () => {
    const require = createRequire(join(llamaFolder!, 'package.json'));
    const { getLlama } = await import(require.resolve('node-llama-cpp'));
    manualSeed(2);
    const model = new GPT({ vocabSize: 50257, blockSize: 64, nLayer: 2, nHead: 2, nEmbd: 64 });
    noGrad(() => {
      for (const p of model.parameters()) if (p.rank === 2) init.normal(p, 0, 0.15); // livelier than GPT-2 init
    });
    const encoding = getEncoding('gpt2');
    const path = join(dir, 'llama-check.gguf');
    await exportGguf(model, path, { tokenizer: encoding });
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
    const loaded = await llama.loadModel({ modelPath: path });
    const context = await loaded.createContext({ contextSize: 64 });
    for (const text of ['Hello world, this is', 'The quick brown fox']) {
      const prompt = encoding.encode(text);
      const [ours] = await model.generate([prompt], { maxNewTokens: 12 });
      const sequence = context.getSequence();
      const theirs: number[] = [];
      for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
        theirs.push(token);
        if (theirs.length === 12) break;
      }
      sequence.dispose();
      expect(theirs).toEqual(ours.slice(prompt.length));
      expect(new Set(theirs).size).toBeGreaterThan(1); // not a degenerate repeat
    }
    await context.dispose();
    await loaded.dispose();
    model.dispose();
  });
});
