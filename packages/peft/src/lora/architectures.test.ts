// LoRA on every architecture of @llmkit/transformer: GPT with LLaMA-style options, the BERT-style
// Encoder and the encoder-decoder. Targets use each one's own Linear names; the count is
// r * (in + out) over the selected Linears, the output starts equal to the base's and merging
// keeps it.
import { Linear, manualSeed, type Module, noGrad, type Tensor } from '@llmkit/core-tensor';
import { Encoder, EncoderDecoder, GPT, llamaConfig } from '@llmkit/transformer';
import { describe, expect, it } from 'vitest';
import { getPeftModel } from '../index.js';
import { maxAbsDiff } from '../testing.js';

const ids = [[1, 5, 9, 2, 7, 3]];

interface Architecture {
  name: string;
  make(): Module;
  targets: string[];
  run(model: Module): Tensor;
}

const ARCHITECTURES: Architecture[] = [
  {
    name: 'GPT with LLaMA options (RoPE, RMSNorm, SwiGLU, GQA, no bias)',
    make: () =>
      new GPT(
        llamaConfig({ vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 16 }),
      ),
    targets: ['c_attn', 'c_fc', 'c_proj'],
    run: (m) => (m as GPT).forward(ids).logits,
  },
  {
    name: 'Encoder (BERT-style)',
    make: () => new Encoder({ vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 }),
    targets: ['query', 'value'],
    run: (m) => (m as Encoder).forward(ids).lastHiddenState,
  },
  {
    name: 'EncoderDecoder',
    make: () =>
      new EncoderDecoder({
        vocabSize: 40,
        blockSize: 16,
        nEncoderLayer: 1,
        nDecoderLayer: 1,
        nHead: 2,
        nEmbd: 16,
      }),
    targets: ['q_proj', 'v_proj', 'fc1'],
    run: (m) => (m as EncoderDecoder).forward(ids, [[0, 4, 2]]).logits,
  },
];

describe.each(ARCHITECTURES)('LoRA on $name', (arch) => {
  it('trains r (in + out) per target, starts at the base output and merges exactly', async () => {
    manualSeed(0);
    const base = arch.make().eval();
    const expected = await arch.run(base).data<Float32Array>();
    const selected = base
      .namedModules()
      .filter(
        ([name, m]) => m instanceof Linear && arch.targets.some((t) => name.endsWith(`.${t}`)),
      );
    const peft = getPeftModel(base, { method: 'lora', r: 2, targetModules: arch.targets });
    expect(selected.length).toBeGreaterThan(1);
    expect(peft.trainableParameterCount()).toBe(
      selected.reduce(
        (n, [, m]) => n + 2 * ((m as Linear).inFeatures + (m as Linear).outFeatures),
        0,
      ),
    );
    expect(maxAbsDiff(await arch.run(base).data<Float32Array>(), expected)).toBeLessThan(1e-6);
    noGrad(() => {
      for (const [name, p] of peft.namedParameters())
        if (name.includes('lora_B')) p.assign(p.add(0.05));
    });
    const adapted = await arch.run(base).data<Float32Array>();
    expect(maxAbsDiff(adapted, expected)).toBeGreaterThan(1e-4);
    peft.merge();
    expect(maxAbsDiff(await arch.run(base).data<Float32Array>(), adapted)).toBeLessThan(1e-5);
  });
});
