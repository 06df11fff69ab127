import { Linear, type Module, manualSeed, noGrad, type Tensor } from '@llmkit/core-tensor';
import { Encoder, EncoderDecoder, GPT, llamaConfig } from '@llmkit/transformer';
import { describe, expect, it } from 'vitest';
import { QuantizedLinear } from './linear.js';
import { dequantizeModel, quantizedLayers, quantizeModel } from './model.js';

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
});
