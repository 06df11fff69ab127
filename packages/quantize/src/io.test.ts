import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed, noGrad, parseSafetensors, serializeSafetensors } from '@llmkit/core-tensor';
import { EncoderDecoder, GPT, llamaConfig } from '@llmkit/transformer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQuantized, saveQuantized } from './io.js';
import { QuantizedLinear } from './linear.js';
import { quantizedEmbeddings, quantizedLayers, quantizeModel } from './model.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llmkit-quantize-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ids = [[3, 1, 4, 1, 5, 9, 2, 6]];
const gpt = () => new GPT({ vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 64 });

describe('saveQuantized / loadQuantized', () => {
  for (const [label, make, options, run] of [
    [
      'GPT int4 g32 with a quantized tied head',
      gpt,
      { format: 'int4', groupSize: 32, lmHead: true },
      (m: GPT) => m.forward(ids).logits,
    ],
    [
      'GPT q8_0 with quantized embeddings and the tied head on them',
      gpt,
      { format: 'q8_0', embeddings: true },
      (m: GPT) => m.forward(ids).logits,
    ],
    [
      'GPT int4 g32 asymmetric with quantized wte, float wpe',
      gpt,
      { format: 'int4', groupSize: 32, symmetric: false, embeddings: true, skip: ['wpe'] },
      (m: GPT) => m.forward(ids).logits,
    ],
    [
      'LLaMA-style GPT q4_0',
      () =>
        new GPT(
          llamaConfig({ vocabSize: 40, blockSize: 16, nLayer: 1, nHead: 4, nKvHead: 2, nEmbd: 64 }),
        ),
      { format: 'q4_0' },
      (m: GPT) => m.forward(ids).logits,
    ],
    [
      'EncoderDecoder nf4 with double quantization',
      () =>
        new EncoderDecoder({
          vocabSize: 40,
          blockSize: 16,
          nEncoderLayer: 1,
          nDecoderLayer: 1,
          nHead: 2,
          nEmbd: 64,
        }),
      { format: 'nf4', doubleQuantization: true },
      (m: EncoderDecoder) => m.forward(ids, [[1, 2]]).logits,
    ],
  ] as const) {
    it(`${label}: loads back with identical packed bytes and outputs`, async () => {
      manualSeed(4);
      const model = (make as () => GPT | EncoderDecoder)();
      model.eval();
      quantizeModel(model, options as never);
      const before = await noGrad(() =>
        (run as (m: unknown) => ReturnType<GPT['forward']>['logits'])(model),
      ).data();
      const path = join(dir, label.replaceAll(' ', '-'));
      await saveQuantized(model, path);
      const loaded = await loadQuantized(path);
      loaded.eval();
      const after = await noGrad(() =>
        (run as (m: unknown) => ReturnType<GPT['forward']>['logits'])(loaded),
      ).data();
      expect(Array.from(after)).toEqual(Array.from(before));
      const a = quantizedLayers(model);
      const b = quantizedLayers(loaded);
      expect(b.map(([n]) => n)).toEqual(a.map(([n]) => n));
      for (let i = 0; i < a.length; i++) {
        const [pa, pb] = [a[i][1].quantizedWeightSync(), b[i][1].quantizedWeightSync()];
        expect(pb.options).toEqual(pa.options);
        for (const part of Object.keys(pa.parts)) expect(pb.parts[part]).toEqual(pa.parts[part]);
      }
      const [ta, tb] = [quantizedEmbeddings(model), quantizedEmbeddings(loaded)];
      expect(tb.map(([n]) => n)).toEqual(ta.map(([n]) => n));
      expect(ta.length).toBe(
        (options as unknown as { embeddings?: boolean }).embeddings
          ? label.includes('float wpe')
            ? 1
            : 2
          : 0,
      );
      for (let i = 0; i < ta.length; i++) {
        const [pa, pb] = [ta[i][1].quantizedWeightSync(), tb[i][1].quantizedWeightSync()];
        expect(pb.options).toEqual(pa.options);
        for (const part of Object.keys(pa.parts)) expect(pb.parts[part]).toEqual(pa.parts[part]);
      }
      // A head tied to a quantized wte has no tensors of its own.
      if (ta.some(([n]) => n === 'wte'))
        expect(Object.keys(loaded.stateDict()).filter((k) => k.startsWith('lm_head'))).toEqual([]);
    });
  }
});

describe('bad quantized folders', () => {
  let good: string;
  beforeAll(async () => {
    const model = gpt();
    quantizeModel(model, { format: 'int8' });
    good = join(dir, 'good');
    await saveQuantized(model, good);
  });

  async function variant(
    name: string,
    change: (files: {
      config: { layers: Record<string, Record<string, unknown>> };
      tensors: ReturnType<typeof parseSafetensors>;
    }) => void,
  ): Promise<string> {
    const path = join(dir, name);
    const config = JSON.parse(await readFile(join(good, 'quantization.json'), 'utf8'));
    const tensors = parseSafetensors(
      new Uint8Array(await readFile(join(good, 'model.safetensors'))),
    );
    change({ config, tensors });
    await saveFolder(path, config, tensors);
    return path;
  }
  async function saveFolder(
    path: string,
    config: unknown,
    file: ReturnType<typeof parseSafetensors>,
  ) {
    const { mkdir, copyFile } = await import('node:fs/promises');
    await mkdir(path, { recursive: true });
    await copyFile(join(good, 'config.json'), join(path, 'config.json'));
    await writeFile(join(path, 'quantization.json'), JSON.stringify(config));
    await writeFile(join(path, 'model.safetensors'), serializeSafetensors(file.tensors));
  }

  it('an unknown format in quantization.json', async () => {
    const path = await variant('format', ({ config }) => {
      config.layers['h.0.attn.c_attn'].format = 'int3';
    });
    await expect(loadQuantized(path)).rejects.toThrow(
      /layer 'h.0.attn.c_attn': quantize: format must be one of .* got "int3"/,
    );
  });
  it('a config whose shape disagrees with the model', async () => {
    const path = await variant('shape', ({ config }) => {
      config.layers['h.1.mlp.c_fc'].shape = [256, 32];
    });
    await expect(loadQuantized(path)).rejects.toThrow(
      /gives layer 'h.1.mlp.c_fc' shape \[256,32\], but the model's layer is \[256,64\]/,
    );
  });
  it('a config that disagrees with its tensors (format changed to q8_0)', async () => {
    const path = await variant('disagree', ({ config }) => {
      config.layers['h.0.mlp.c_proj'].format = 'q8_0';
      config.layers['h.0.mlp.c_proj'].groupSize = 32;
    });
    await expect(loadQuantized(path)).rejects.toThrow(
      /'h.0.mlp.c_proj.weight' is int8 \[64,256\], but a 'q8_0' layer \[64,256\] needs uint8 \[64,272\]/,
    );
  });
  it('a corrupt packed tensor (truncated scales, a missing part)', async () => {
    const truncated = await variant('truncated', ({ tensors }) => {
      const entry = tensors.tensors['h.0.attn.c_attn.weight_scales'];
      tensors.tensors['h.0.attn.c_attn.weight_scales'] = {
        ...entry,
        shape: [100],
        data: entry.data.slice(0, 100),
      };
    });
    await expect(loadQuantized(truncated)).rejects.toThrow(
      /'h.0.attn.c_attn.weight_scales' is float32 \[100\], but a 'int8' layer \[192,64\] needs float32 \[192\]/,
    );
    const missing = await variant('missing', ({ tensors }) => {
      delete tensors.tensors['h.1.attn.c_proj.weight'];
    });
    await expect(loadQuantized(missing)).rejects.toThrow(
      /lacks 'h.1.attn.c_proj.weight' \(int8 \[64,64\]\)/,
    );
  });
  it('a quantized embedding whose config disagrees with the model or its tensors', async () => {
    const model = gpt();
    quantizeModel(model, { format: 'q4_0', embeddings: true });
    const path = join(dir, 'embeddings');
    await saveQuantized(model, path);
    const config = JSON.parse(await readFile(join(path, 'quantization.json'), 'utf8'));
    expect(Object.keys(config.embeddings)).toEqual(['wte', 'wpe']);
    config.embeddings.wte.shape = [41, 64];
    await writeFile(join(path, 'quantization.json'), JSON.stringify(config));
    await expect(loadQuantized(path)).rejects.toThrow(
      /gives embedding 'wte' shape \[41,64\], but the model's table is \[40,64\]/,
    );
    config.embeddings.wte.shape = [40, 64];
    config.embeddings.wte.format = 'q8_0';
    await writeFile(join(path, 'quantization.json'), JSON.stringify(config));
    await expect(loadQuantized(path)).rejects.toThrow(
      /'wte.weight' is uint8 \[40,36\], but a 'q8_0' embedding \[40,64\] needs uint8 \[40,68\]/,
    );
    config.embeddings = { 'h.0.ln_1': config.embeddings.wte };
    await writeFile(join(path, 'quantization.json'), JSON.stringify(config));
    await expect(loadQuantized(path)).rejects.toThrow(
      /lists embedding 'h.0.ln_1', which is not an Embedding of this GPT/,
    );
  });
  it('damaged bytes', async () => {
    const path = join(dir, 'damaged');
    await saveFolder(
      path,
      JSON.parse(await readFile(join(good, 'quantization.json'), 'utf8')),
      parseSafetensors(new Uint8Array(await readFile(join(good, 'model.safetensors')))),
    );
    const bytes = await readFile(join(path, 'model.safetensors'));
    await writeFile(join(path, 'model.safetensors'), bytes.subarray(0, bytes.length - 100));
    await expect(loadQuantized(path)).rejects.toMatchObject({ code: 'corrupt_file' });
  });
  it('nothing is written when saving fails', async () => {
    const path = join(dir, 'float');
    await expect(saveQuantized(gpt(), path)).rejects.toThrow(/no QuantizedLinear layer/);
    expect(existsSync(path)).toBe(false);
  });
  it('the loaded layers are QuantizedLinear with their biases', async () => {
    const model = (await loadQuantized(good)) as GPT;
    expect(model.h.at(0)).toBeDefined();
    expect(
      quantizedLayers(model).every(([, l]) => l instanceof QuantizedLinear && l.bias !== null),
    ).toBe(true);
  });
});
