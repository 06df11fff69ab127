// LoRA beyond the method table: named adapters (switch, disable, delete), scaling, initial
// values, and clear errors that leave the model untouched.
import { Linear, manualSeed } from '@llmkit/core-tensor';
import { GPT } from '@llmkit/transformer';
import { describe, expect, it } from 'vitest';
import { getPeftModel, LoraLayer, loraLayerOf, PeftError, type PeftModel } from '../index.js';
import { maxAbsDiff } from '../testing.js';

function makeBase(): GPT {
  manualSeed(0);
  return new GPT({ vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 });
}

const ids = [[1, 5, 9, 2, 7, 3]];

async function logitsOf(model: { forward: GPT['forward'] }): Promise<number[]> {
  return Array.from(await model.forward(ids).logits.data<Float32Array>());
}

function setB(peft: PeftModel<GPT>, value: number): void {
  for (const [name, p] of peft.namedParameters())
    if (name.includes('lora_B') && p.requiresGrad) p.assign(p.mul(0).add(value));
}

describe('named adapters', () => {
  it('switches, disables and deletes adapters; the last deletion gives back the plain model', async () => {
    const base = makeBase();
    const plain = await logitsOf(base);
    const peft = getPeftModel(base, { method: 'lora', r: 2 }, 'first');
    setB(peft, 0.05);
    const first = await logitsOf(peft);
    peft.addAdapter('second', { method: 'lora', r: 3, targetModules: ['c_fc'] });
    expect(peft.activeAdapter).toBe('first'); // a new adapter waits for setAdapter
    peft.setAdapter('second');
    expect(peft.trainableParameterCount()).toBe(2 * 3 * (16 + 64));
    setB(peft, -0.05);
    const second = await logitsOf(peft);
    expect(maxAbsDiff(second, first)).toBeGreaterThan(1e-3);
    peft.setAdapter('first');
    expect(await logitsOf(peft)).toEqual(first);
    peft.disableAdapters();
    expect(await logitsOf(peft)).toEqual(plain);
    expect(peft.trainableParameterCount()).toBe(0);
    peft.enableAdapters();
    expect(await logitsOf(peft)).toEqual(first);
    peft.deleteAdapter('first');
    expect(peft.activeAdapter).toBe('second');
    expect(await logitsOf(peft)).toEqual(second);
    expect(peft.namedParameters().some(([n]) => n.includes('.first.'))).toBe(false);
    peft.deleteAdapter('second');
    expect(peft.adapterNames).toEqual([]);
    expect(base.namedParameters().some(([n]) => n.includes('lora'))).toBe(false);
    expect(Object.hasOwn(base.h.at(0).attn.c_attn, 'forward')).toBe(false);
    expect(await logitsOf(base)).toEqual(plain);
  });

  it('keeps a copy of modulesToSave per adapter', async () => {
    const peft = getPeftModel(makeBase(), { method: 'lora', r: 2, modulesToSave: ['ln_f'] }, 'a');
    const lnF = peft.base.ln_f.stateDict().weight;
    const original = Array.from(await lnF.data<Float32Array>());
    lnF.assign(lnF.mul(2));
    peft.addAdapter('b', { method: 'lora', r: 2, modulesToSave: ['ln_f'] });
    peft.setAdapter('b');
    expect(Array.from(await lnF.data<Float32Array>())).toEqual(original);
    peft.setAdapter('a');
    expect(Array.from(await lnF.data<Float32Array>())).toEqual(original.map((v) => v * 2));
    peft.disableAdapters();
    expect(Array.from(await lnF.data<Float32Array>())).toEqual(original);
  });
});

describe('LoRA layer', () => {
  it('initialises A Kaiming-uniform (a = sqrt(5): bound 1/sqrt(in)) and B at zero', async () => {
    manualSeed(3);
    const linear = new Linear(400, 30);
    const { A, B } = loraLayerOf(linear).add('x', { r: 8, scaling: 1, dropout: 0 });
    const a = Array.from(await A.data<Float32Array>());
    const bound = 1 / Math.sqrt(400);
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.95 * bound); // uniform fills the range
    expect(Array.from(await B.data<Float32Array>()).every((v) => v === 0)).toBe(true);
    expect(A.shape).toEqual([8, 400]);
    expect(B.shape).toEqual([30, 8]);
  });

  it('scales by alpha / r, or alpha / sqrt(r) with rsLoRA', async () => {
    const update = async (config: object) => {
      const base = makeBase();
      const plain = await logitsOf(base);
      const peft = getPeftModel(base, {
        method: 'lora',
        targetModules: ['c_fc'],
        ...config,
      });
      setB(peft, 0.01);
      return maxAbsDiff(await logitsOf(peft), plain);
    };
    // scaling 16/4 = 4 vs 16/sqrt(4) = 8: same A (seeded), so the change doubles to first order
    const plainScale = await update({ r: 4, alpha: 16, seed: 1 });
    const rsScale = await update({ r: 4, alpha: 16, seed: 1, useRslora: true });
    expect(rsScale / plainScale).toBeGreaterThan(1.8);
    expect(rsScale / plainScale).toBeLessThan(2.2);
  });

  it('is what the targeted module runs', () => {
    const peft = getPeftModel(makeBase(), { method: 'lora', targetModules: ['c_attn'] });
    expect(loraLayerOf(peft.base.h.at(1).attn.c_attn)).toBeInstanceOf(LoraLayer);
  });
});

describe('bad input', () => {
  const untouched = (base: GPT) => {
    expect(base.namedParameters().some(([n]) => n.includes('lora'))).toBe(false);
    expect(base.parameters().every((p) => p.requiresGrad)).toBe(true);
  };

  it('names every module when targetModules match nothing', () => {
    const base = makeBase();
    expect(() => getPeftModel(base, { method: 'lora', targetModules: ['q_proj'] })).toThrow(
      /targetModules \["q_proj"\] match no module of the model; its Linear, Embedding and QuantizedLinear modules are: wte, wpe, h\.0\.attn\.c_attn, h\.0\.attn\.c_proj, h\.0\.mlp\.c_fc/,
    );
    untouched(base);
  });

  it('rejects r <= 0, a bad bias, an unknown option and a non-Linear target before any change', () => {
    const base = makeBase();
    const cases: [object, RegExp][] = [
      [{ r: 0 }, /LoRA config: r must be an integer >= 1, got 0/],
      [{ r: -2 }, /r must be an integer >= 1, got -2/],
      [{ bias: 'some' }, /bias must be one of 'none', 'all', 'lora_only', got "some"/],
      [{ rank: 4 }, /unknown option "rank"/],
      [
        { targetModules: ['ln_1'] },
        /select 'h\.0\.ln_1', a LayerNorm; expected only Linear, Embedding or QuantizedLinear modules/,
      ],
      [{ dropout: 1 }, /dropout must be a finite number >= 0 and < 1, got 1/],
    ];
    for (const [config, message] of cases) {
      const error = (() => {
        try {
          getPeftModel(base, { method: 'lora', ...config });
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(PeftError);
      expect((error as Error).message).toMatch(message);
      untouched(base);
    }
    expect(() => getPeftModel(base, { method: 'lorax' })).toThrow(/method must be one of 'lora'/);
  });
});
