// QLoRA beyond the method table: the base is quantized and stays packed (never dequantized as a
// whole, buffers unchanged by training), gradients through the quantized base equal those through
// its dequantized float copy, and merging is refused without touching anything.
import { AdamW, Linear, manualSeed, randn, type Tensor } from '@llmkit/core-tensor';
import { QuantizedLinear } from '@llmkit/quantize';
import { GPT } from '@llmkit/transformer';
import { describe, expect, it, vi } from 'vitest';
import { getPeftModel, loraLayerOf, PeftError } from '../index.js';
import { maxAbsDiff } from '../testing.js';

function makeBase(): GPT {
  manualSeed(0);
  return new GPT({ vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 });
}

const config = {
  method: 'qlora' as const,
  r: 4,
  targetModules: ['c_attn'],
  groupSize: 16,
  doubleQuantization: false,
};

describe('QLoRA', () => {
  it('quantizes the Linears, trains only A and B, and never dequantizes or changes the base', async () => {
    const peft = getPeftModel(makeBase(), config);
    const quantized = peft.base.namedModules().filter(([, m]) => m instanceof QuantizedLinear);
    expect(quantized.map(([n]) => n)).toEqual([
      'h.0.attn.c_attn',
      'h.0.attn.c_proj',
      'h.0.mlp.c_fc',
      'h.0.mlp.c_proj',
      'h.1.attn.c_attn',
      'h.1.attn.c_proj',
      'h.1.mlp.c_fc',
      'h.1.mlp.c_proj',
    ]);
    const packed = peft.base.namedBuffers().filter(([n]) => n.includes('weight'));
    const before = await Promise.all(
      packed.map(([, b]) => b.data().then((d) => Array.from(d as ArrayLike<number>))),
    );
    const dequantize = vi.spyOn(QuantizedLinear.prototype, 'dequantize');
    const toLinear = vi.spyOn(QuantizedLinear.prototype, 'toLinear');
    const optimizer = new AdamW(peft.trainableParameters(), { lr: 1e-2 });
    for (let step = 0; step < 3; step++) {
      const { loss } = peft.forward([[1, 2, 3, 4]], { targets: [[2, 3, 4, 5]] });
      loss!.backward();
      for (const [name, p] of peft.namedParameters())
        expect(p.grad !== null, name).toBe(/lora_[AB]/.test(name));
      optimizer.step();
      optimizer.zeroGrad();
    }
    expect(dequantize).not.toHaveBeenCalled();
    expect(toLinear).not.toHaveBeenCalled();
    dequantize.mockRestore();
    toLinear.mockRestore();
    const after = await Promise.all(
      packed.map(([, b]) => b.data().then((d) => Array.from(d as ArrayLike<number>))),
    );
    expect(after).toEqual(before);
  });

  it('gives the gradients of LoRA over the dequantized float weight', async () => {
    manualSeed(1);
    const float = new Linear(32, 8);
    const quantized = QuantizedLinear.fromLinear(float, { format: 'nf4', groupSize: 16 });
    const reference = new Linear(32, 8);
    reference.weight.assign(quantized.dequantize());
    reference.bias!.assign(float.bias!);
    const grads: Record<string, number[]>[] = [];
    for (const base of [quantized, reference]) {
      manualSeed(2);
      const layer = loraLayerOf(base);
      const { A, B } = layer.add('default', { r: 4, scaling: 2, dropout: 0 });
      B.assign(randn(B.shape));
      layer.active = 'default';
      manualSeed(3);
      const x = randn([3, 32]).requiresGrad_();
      const weights = randn([3, 8]);
      base.forward(x).mul(weights).sum().backward();
      const read = async (t: Tensor) => Array.from(await (t.grad as Tensor).data<Float32Array>());
      grads.push({ x: await read(x), A: await read(A), B: await read(B) });
    }
    for (const key of ['x', 'A', 'B'])
      expect(maxAbsDiff(grads[0][key], grads[1][key])).toBeLessThan(1e-4);
  });

  it('refuses to merge into packed weights, changing nothing', async () => {
    const peft = getPeftModel(makeBase(), config);
    const before = Array.from(await peft.forward([[1, 2, 3]]).logits.data<Float32Array>());
    expect(() => peft.merge()).toThrow(PeftError);
    expect(() => peft.mergeAndUnload()).toThrow(/qlora adapters cannot be merged/);
    expect(Array.from(await peft.forward([[1, 2, 3]]).logits.data<Float32Array>())).toEqual(before);
  });
});
