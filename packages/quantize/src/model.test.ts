import {
  Embedding,
  Linear,
  type Module,
  manualSeed,
  noGrad,
  setBackend,
  type Tensor,
} from '@llmkit/core-tensor';
import { createJsBackend, registerBackend } from '@llmkit/core-tensor/backend';
import { Encoder, EncoderDecoder, GPT, llamaConfig } from '@llmkit/transformer';
import { describe, expect, it } from 'vitest';
import { QuantizedEmbedding } from './embedding.js';
import { QuantizedLinear } from './linear.js';
import { dequantizeModel, quantizedEmbeddings, quantizedLayers, quantizeModel } from './model.js';
import { weightBytes } from './report.js';

const ids = [[1, 5, 2, 7, 3, 9]];
const models: [string, () => Module, (m: Module) => Tensor][] = [
  [
    'GPT',
    () => new GPT({ vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 64 }),
    (m) => (m as GPT).forward(ids).logits,
  ],
  [
    'LLaMA-style GPT',
    () =>
      new GPT(
        llamaConfig({ vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 64 }),
      ),
    (m) => (m as GPT).forward(ids).logits,
  ],
  [
    'Encoder',
    () => new Encoder({ vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 64 }),
    (m) => (m as Encoder).forward(ids).lastHiddenState,
  ],
  [
    'EncoderDecoder',
    () =>
      new EncoderDecoder({
        vocabSize: 40,
        blockSize: 16,
        nEncoderLayer: 1,
        nDecoderLayer: 1,
        nHead: 2,
        nEmbd: 64,
      }),
    (m) => (m as EncoderDecoder).forward(ids, [[1, 4, 6]]).logits,
  ],
];

async function values(t: Tensor): Promise<Float32Array> {
  return t.data<Float32Array>();
}

function relativeError(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

describe('quantizeModel', () => {
  for (const [label, make, run] of models) {
    it(`${label}: replaces every Linear, keeps norms/embeddings/biases float, and stays close`, async () => {
      manualSeed(1);
      const model = make().eval();
      // The head stays float by default (lmHead: false).
      const linears = model
        .namedModules()
        .filter(([n, m]) => m instanceof Linear && n !== 'lm_head').length;
      const floatOut = await values(noGrad(() => run(model)));
      const floatParameters = model.namedParameters().map(([n]) => n);
      const result = quantizeModel(model, { format: 'int8' });
      expect(result.layers.length).toBe(linears);
      expect(model.namedModules().some(([n, m]) => m instanceof Linear && n !== 'lm_head')).toBe(
        false,
      );
      // Only the Linear weights left the parameters; norms, embeddings and biases stayed.
      const left = model.namedParameters().map(([n]) => n);
      expect(left).toEqual(
        floatParameters.filter((n) => !result.layers.some((l) => n === `${l.name}.weight`)),
      );
      const int8Out = await values(noGrad(() => run(model)));
      expect(relativeError(int8Out, floatOut)).toBeLessThan(0.01);
      expect(dequantizeModel(model)).toBe(linears);
      expect(quantizedLayers(model)).toEqual([]);
      const back = await values(noGrad(() => run(model)));
      expect(relativeError(back, int8Out)).toBeLessThan(1e-5);
    });
  }

  it('the 4-bit formats stay within a few percent of the float model', async () => {
    for (const options of [
      { format: 'int4', groupSize: 32 },
      { format: 'nf4' },
      { format: 'q4_0' },
      { format: 'q8_0' },
    ] as const) {
      manualSeed(2);
      const model = new GPT({
        vocabSize: 40,
        blockSize: 16,
        nLayer: 2,
        nHead: 2,
        nEmbd: 64,
      }).eval();
      const floatOut = await values(noGrad(() => model.forward(ids).logits));
      quantizeModel(model, options);
      const out = await values(noGrad(() => model.forward(ids).logits));
      expect(relativeError(out, floatOut)).toBeLessThan(options.format === 'q8_0' ? 0.01 : 0.15);
    }
  });

  it('skips layers by name suffix or expression and can quantize a tied head', () => {
    const model = new GPT({ vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 64 });
    const result = quantizeModel(model, { format: 'q8_0', skip: ['c_proj'], lmHead: true });
    expect(result.skipped).toEqual([
      'h.0.attn.c_proj',
      'h.0.mlp.c_proj',
      'h.1.attn.c_proj',
      'h.1.mlp.c_proj',
    ]);
    expect(result.layers.map((l) => l.name)).toEqual([
      'h.0.attn.c_attn',
      'h.0.mlp.c_fc',
      'h.1.attn.c_attn',
      'h.1.mlp.c_fc',
      'lm_head',
    ]);
    expect(model.lm_head).toBeInstanceOf(QuantizedLinear);
    expect(model.wte.weight.dtype).toBe('float32');
    const logits = noGrad(() => model.forward(ids).logits);
    expect(logits.shape).toEqual([1, 6, 40]);
    const other = new GPT({ vocabSize: 40, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 64 });
    expect(quantizeModel(other, { format: 'int8', skip: /h\.0\.attn\..*/ }).skipped).toEqual([
      'h.0.attn.c_attn',
      'h.0.attn.c_proj',
    ]);
  });

  it('reports bytes and throws before changing anything when a group does not divide a width', () => {
    const model = new GPT({ vocabSize: 40, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 48 });
    expect(() => quantizeModel(model, { format: 'int4', groupSize: 32 })).toThrow(
      /layer 'h.0.attn.c_attn': groupSize 32 of 'int4' does not divide the width 48/,
    );
    expect(quantizedLayers(model)).toEqual([]);
    const { layers } = quantizeModel(model, { format: 'int8' });
    expect(layers[0]).toEqual({
      name: 'h.0.attn.c_attn',
      kind: 'linear',
      shape: [144, 48],
      floatBytes: 144 * 48 * 4,
      packedBytes: 144 * 48 + 144 * 4,
    });
    expect(() => quantizeModel(model, { format: 'int9' } as never)).toThrow(
      /format must be one of/,
    );
    expect(() => quantizeModel(model, { format: 'int8', groupsize: 3 } as never)).toThrow(
      /unknown option "groupsize"; did you mean groupSize/,
    );
  });

  it('names the way round a backend that reads only asynchronously (webgpu), changing nothing', async () => {
    registerBackend('js-async', () => {
      const backend = createJsBackend({ name: 'js-async' });
      Object.assign(backend, { readSync: undefined }); // as webgpu: data() only
      return backend;
    });
    await setBackend('js-async');
    try {
      const model = new GPT({ vocabSize: 40, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 64 });
      expect(() => quantizeModel(model, { format: 'int8' })).toThrow(
        "quantizeModel: the model's weights are on 'js-async', which reads only asynchronously; quantize on the cpu or js backend, saveQuantized, then loadQuantized(dir, { backend: 'js-async' })",
      );
      expect(quantizedLayers(model)).toHaveLength(0);
    } finally {
      await setBackend('js');
    }
  });

  it('embeddings: wte and wpe become packed tables, the tied head reads wte, logits stay close', async () => {
    for (const format of ['int8', 'q8_0', 'int4', 'q4_0'] as const) {
      manualSeed(5);
      const model = new GPT({
        vocabSize: 40,
        blockSize: 16,
        nLayer: 2,
        nHead: 2,
        nEmbd: 64,
      }).eval();
      const floatOut = await values(noGrad(() => model.forward(ids).logits));
      // float inputs, so the dequantized model below gives the same logits
      const result = quantizeModel(model, { format, embeddings: true, activations: 'float32' });
      expect(result.layers.filter((l) => l.kind === 'embedding').map((l) => l.name)).toEqual([
        'wte',
        'wpe',
      ]);
      expect(model.wte).toBeInstanceOf(QuantizedEmbedding);
      expect(model.wpe).toBeInstanceOf(QuantizedEmbedding);
      expect(model.lm_head).toBeNull(); // still tied: one packed tensor for lookup and head
      expect(quantizedEmbeddings(model).map(([n]) => n)).toEqual(['wte', 'wpe']);
      // Nothing float of rank 2 is left: every matrix and table is packed.
      expect(model.namedParameters().filter(([, p]) => p.rank === 2)).toEqual([]);
      expect(Object.keys(model.stateDict()).filter((k) => k.startsWith('wte'))).toEqual(
        format === 'int8' || format === 'int4'
          ? ['wte.weight', 'wte.weight_scales']
          : ['wte.weight'],
      );
      const out = await values(noGrad(() => model.forward(ids).logits));
      expect(relativeError(out, floatOut)).toBeLessThan(format.endsWith('8') ? 0.01 : 0.15);
      // The head multiplies by wte's packed rows: the dequantized model (a float tied wte)
      // gives the same logits up to float rounding.
      const table = (model.wte as unknown as QuantizedEmbedding).dequantize();
      expect(dequantizeModel(model)).toBe(result.layers.length);
      expect(model.wte).toBeInstanceOf(Embedding);
      expect(model.wpe).toBeInstanceOf(Embedding);
      expect(Array.from(await model.wte.weight.data())).toEqual(Array.from(await table.data()));
      expect(model.lm_head).toBeNull();
      const back = await values(noGrad(() => model.forward(ids).logits));
      expect(relativeError(back, out)).toBeLessThan(1e-5);
    }
  });

  it('embeddings: weights memory about 1/4 (int8, q8_0) and 1/7 (q4_0) of f32', () => {
    // A GPT-2-proportioned model (wte about a third of the weights), small enough for a test.
    const config = { vocabSize: 4096, blockSize: 256, nLayer: 2, nHead: 4, nEmbd: 256 };
    const ratios: Record<string, number> = {};
    for (const format of ['int8', 'q8_0', 'int4', 'q4_0'] as const) {
      manualSeed(6);
      const model = new GPT(config);
      const before = weightBytes(model);
      const result = quantizeModel(model, { format, embeddings: true });
      const after = weightBytes(model);
      // What is left float: norms and biases (1-D), each counted once.
      const float = model.namedParameters().reduce((sum, [, p]) => sum + 4 * p.size, 0);
      const packed = result.layers.reduce((sum, l) => sum + l.packedBytes, 0);
      expect(after).toBe(packed + float);
      ratios[format] = after / before;
      model.dispose();
    }
    // int8: 8 bits + a float per row; q8_0 8.5 bits; int4 g32 5 bits; q4_0 4.5 bits.
    expect(ratios.int8).toBeGreaterThan(0.25);
    expect(ratios.int8).toBeLessThan(0.26);
    expect(ratios.q8_0).toBeGreaterThan(0.265);
    expect(ratios.q8_0).toBeLessThan(0.275);
    expect(ratios.int4).toBeGreaterThan(0.156);
    expect(ratios.int4).toBeLessThan(0.165);
    expect(ratios.q4_0).toBeGreaterThan(0.14);
    expect(ratios.q4_0).toBeLessThan(0.15);
    // The float default keeps the tables: int8 of the same model is far from 1/4.
    const model = new GPT(config);
    const before = weightBytes(model);
    quantizeModel(model, { format: 'int8' });
    expect(weightBytes(model) / before).toBeGreaterThan(0.5);
    expect(model.wte).toBeInstanceOf(Embedding);
  }, 60_000);

  it('embeddings: skip keeps a table float, and other architectures are refused', () => {
    const model = new GPT({ vocabSize: 40, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 64 });
    const result = quantizeModel(model, { format: 'q4_0', embeddings: true, skip: ['wpe'] });
    expect(result.skipped).toEqual(['wpe']);
    expect(model.wpe).toBeInstanceOf(Embedding);
    expect(model.wte).toBeInstanceOf(QuantizedEmbedding);
    const encoder = new Encoder({ vocabSize: 40, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 64 });
    expect(() => quantizeModel(encoder, { format: 'int8', embeddings: true })).toThrow(
      /embeddings: true quantizes a GPT's wte and wpe; this model is a Encoder/,
    );
    expect(quantizedLayers(encoder)).toEqual([]);
    const narrow = new GPT({ vocabSize: 40, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 48 });
    expect(() =>
      quantizeModel(narrow, { format: 'q8_0', embeddings: true, skip: /h\..*/ }),
    ).toThrow(/embedding 'wte': groupSize 32 of 'q8_0' does not divide the width 48/);
    expect(narrow.wte).toBeInstanceOf(Embedding);
  });
});
