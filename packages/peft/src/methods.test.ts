// One table of cases over every method: trainable counts equal their formula, a fresh adapter
// leaves the base output alone (where the method starts at identity), merged equals unmerged,
// adapter files round-trip exactly, gradients reach only adapter tensors and training leaves the
// base untouched, and each adapter layer's gradients match finite differences in float64.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdamW,
  add,
  type GradcheckResult,
  gradcheck,
  manualSeed,
  matmul,
  noGrad,
  randint,
  randn,
  transpose,
} from '@llmkit/core-tensor';
import { quantizeModel } from '@llmkit/quantize';
import { GPT, type ResolvedGPTConfig } from '@llmkit/transformer';
import { afterAll, describe, expect, it } from 'vitest';
import {
  getPeftModel,
  loadAdapter,
  ia3Forward,
  loraEmbeddingUpdate,
  loraUpdate,
  type PeftConfig,
  type PeftModel,
  prependPrompt,
  saveAdapter,
} from './index.js';
import { maxAbsDiff } from './testing.js';

const scratch = mkdtempSync(join(tmpdir(), 'llmkit-peft-methods-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A small GPT-2-shaped model, the same weights every call. */
function makeBase(): GPT {
  manualSeed(0);
  return new GPT({ vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 });
}

const ids = [
  [1, 5, 9, 2, 7, 3],
  [4, 4, 8, 0, 6, 1],
];
const targets = [
  [5, 9, 2, 7, 3, 8],
  [4, 8, 0, 6, 1, 2],
];

async function logitsOf(model: { forward: GPT['forward'] }): Promise<Float32Array> {
  const { logits } = model.forward(ids);
  const values = await logits.data<Float32Array>();
  logits.dispose();
  return values;
}

/** Every trainable tensor of the active adapter set to small random values (so it matters). */
function randomize(peft: PeftModel<GPT>, offset = 0): void {
  noGrad(() => {
    for (const t of peft.trainableParameters()) {
      const r = randn(t.shape, { dtype: t.dtype });
      const scaled = add(r.mul(0.3), offset);
      t.assign(scaled);
      r.dispose();
      scaled.dispose();
    }
  });
}

const float64 = { dtype: 'float64' as const };

interface MethodCase {
  name: string;
  /** The base model the adapter goes on (default the float makeBase()). */
  base?: () => GPT;
  config: PeftConfig;
  /** The trainable-parameter count, written out from the method's definition. */
  trainable(c: ResolvedGPTConfig): number;
  /** Whether a fresh adapter leaves the output equal to the base model's. */
  startsAsBase: boolean;
  mergeable: boolean;
  /** Value added when randomizing (IA3's vectors live around 1). */
  offset?: number;
  /** Gradient checks of the method's layer in float64. */
  gradchecks(): GradcheckResult[];
}

const loraLinearCheck = (): GradcheckResult =>
  gradcheck(
    (x, W, b, A, B) => add(add(matmul(x, transpose(W)), b), loraUpdate(x, A, B, 1.5)),
    [
      randn([3, 5], float64),
      randn([4, 5], float64),
      randn([4], float64),
      randn([2, 5], float64),
      randn([4, 2], float64),
    ],
  );
const loraEmbeddingCheck = (): GradcheckResult =>
  gradcheck(
    (tokens, A, B) => loraEmbeddingUpdate(tokens, A, B, 0.5),
    [randint(0, 7, [2, 3]), randn([2, 7], float64), randn([4, 2], float64)],
  );

const ia3Check = (feedforward: boolean): GradcheckResult =>
  gradcheck(
    (x, W, b, l) => ia3Forward(x, W, b, l, feedforward),
    [
      randn([3, 5], float64),
      randn([4, 5], float64),
      randn([4], float64),
      randn(feedforward ? [1, 5] : [4, 1], float64),
    ],
  );

/** makeBase() with its Linears in nf4, as QLoRA leaves them. */
function quantizedBase(): GPT {
  const base = makeBase();
  quantizeModel(base, { format: 'nf4', groupSize: 16, doubleQuantization: false });
  return base;
}

const CASES: MethodCase[] = [
  {
    name: 'lora r 4 on c_attn',
    config: { method: 'lora', r: 4, alpha: 8, targetModules: ['c_attn'] },
    trainable: ({ nLayer: L, nEmbd: C }) => L * 4 * (C + 3 * C),
    startsAsBase: true,
    mergeable: true,
    gradchecks: () => [loraLinearCheck()],
  },
  {
    name: 'lora rsLoRA with dropout on every c_proj (a regular expression)',
    config: {
      method: 'lora',
      r: 4,
      alpha: 4,
      useRslora: true,
      dropout: 0.1,
      targetModules: /h\.\d+\.(attn|mlp)\.c_proj/,
    },
    trainable: ({ nLayer: L, nEmbd: C }) => L * (4 * (C + C) + 4 * (4 * C + C)),
    startsAsBase: true,
    mergeable: true,
    gradchecks: () => [loraLinearCheck()],
  },
  {
    name: 'lora on the position embedding',
    config: { method: 'lora', r: 2, targetModules: ['wpe'] },
    trainable: ({ blockSize, nEmbd: C }) => 2 * (blockSize + C),
    startsAsBase: true,
    mergeable: true,
    gradchecks: () => [loraEmbeddingCheck()],
  },
  {
    name: 'lora with bias all',
    config: { method: 'lora', r: 2, targetModules: ['c_attn', 'c_fc'], bias: 'all' },
    // per block: ln_1 C, c_attn 3C, attn.c_proj C, ln_2 C, c_fc 4C, mlp.c_proj C biases; ln_f C
    trainable: ({ nLayer: L, nEmbd: C }) => L * 2 * (4 * C + 5 * C) + L * 11 * C + C,
    startsAsBase: true,
    mergeable: true,
    gradchecks: () => [loraLinearCheck()],
  },
  {
    name: 'lora with bias lora_only and modulesToSave ln_f',
    config: {
      method: 'lora',
      r: 2,
      targetModules: ['c_fc'],
      bias: 'lora_only',
      modulesToSave: ['ln_f'],
    },
    trainable: ({ nLayer: L, nEmbd: C }) => L * (2 * (C + 4 * C) + 4 * C) + 2 * C,
    startsAsBase: true,
    mergeable: true,
    gradchecks: () => [loraLinearCheck()],
  },
  {
    name: 'ia3 with PEFT defaults for GPT-2',
    config: { method: 'ia3' },
    // c_attn scales its 3C outputs; the feed-forward mlp.c_proj scales its 4C inputs
    trainable: ({ nLayer: L, nEmbd: C }) => L * (3 * C + 4 * C),
    startsAsBase: true,
    mergeable: true,
    offset: 1,
    gradchecks: () => [ia3Check(false), ia3Check(true)],
  },
  {
    name: 'ia3 on c_fc and attn.c_proj with modulesToSave ln_f',
    config: {
      method: 'ia3',
      targetModules: ['c_fc', 'attn.c_proj'],
      feedforwardModules: ['c_fc'],
      modulesToSave: ['ln_f'],
    },
    // c_fc (feed-forward) scales its C inputs, attn.c_proj its C outputs; ln_f has 2C
    trainable: ({ nLayer: L, nEmbd: C }) => L * (C + C) + 2 * C,
    startsAsBase: true,
    mergeable: true,
    offset: 1,
    gradchecks: () => [ia3Check(true)],
  },
  {
    name: 'prompt tuning with 3 virtual tokens',
    config: { method: 'prompt-tuning', numVirtualTokens: 3 },
    trainable: ({ nEmbd: C }) => 3 * C,
    startsAsBase: false,
    mergeable: false,
    gradchecks: () => [
      gradcheck((e, p) => prependPrompt(e, p), [randn([2, 4, 5], float64), randn([3, 5], float64)]),
    ],
  },
  {
    name: 'qlora nf4 r 4 on c_attn and c_fc',
    base: quantizedBase,
    config: {
      method: 'qlora',
      r: 4,
      targetModules: ['c_attn', 'c_fc'],
      groupSize: 16,
      doubleQuantization: false,
    },
    trainable: ({ nLayer: L, nEmbd: C }) => L * 4 * (C + 3 * C + (C + 4 * C)),
    startsAsBase: true,
    mergeable: false,
    gradchecks: () => [loraLinearCheck()],
  },
];

describe.each(CASES)('$name', (c) => {
  // the model a case's adapter goes on; QLoRA quantizes makeBase() itself
  const newBase = (): GPT => (c.config.method === 'qlora' ? makeBase() : (c.base ?? makeBase)());
  const reference = c.base ?? makeBase;
  it('trains exactly the formula count of parameters, and only the adapter', () => {
    const base = newBase();
    const peft = getPeftModel(base, c.config);
    expect(peft.trainableParameterCount()).toBe(c.trainable(base.config));
    peft.dispose();
  });

  it.skipIf(!c.startsAsBase)('starts with the base model output', async () => {
    const expected = await logitsOf(reference());
    const peft = getPeftModel(newBase(), c.config);
    expect(maxAbsDiff(await logitsOf(peft), expected)).toBeLessThan(1e-6);
  });

  it.skipIf(!c.mergeable)('gives the same output merged and unmerged (within 1e-5)', async () => {
    const peft = getPeftModel(newBase(), c.config).eval();
    randomize(peft, c.offset);
    const unmerged = await logitsOf(peft);
    const plain = await logitsOf(makeBase());
    expect(maxAbsDiff(unmerged, plain)).toBeGreaterThan(1e-3); // the adapter matters
    peft.merge();
    expect(maxAbsDiff(await logitsOf(peft), unmerged)).toBeLessThan(1e-5);
    peft.unmerge();
    expect(maxAbsDiff(await logitsOf(peft), unmerged)).toBeLessThan(1e-5);
    const merged = peft.mergeAndUnload();
    expect(merged.namedParameters().some(([name]) => /lora|ia3/.test(name))).toBe(false);
    expect(maxAbsDiff(await logitsOf(merged), unmerged)).toBeLessThan(1e-5);
  });

  it('round-trips through saveAdapter / loadAdapter exactly', async () => {
    const peft = getPeftModel(newBase(), c.config).eval();
    randomize(peft, c.offset);
    const dir = join(scratch, c.name.replaceAll(/\W+/g, '-'));
    await saveAdapter(peft, dir);
    const again = await loadAdapter(reference(), dir);
    again.eval();
    const a = peft.adapterEntries('default');
    const b = again.adapterEntries('default');
    expect(b.map((e) => `${e.module}.${e.key}`)).toEqual(a.map((e) => `${e.module}.${e.key}`));
    for (const [i, entry] of a.entries()) {
      expect(Array.from(await b[i].tensor.data<Float32Array>())).toEqual(
        Array.from(await entry.tensor.data<Float32Array>()),
      );
    }
    expect(Array.from(await logitsOf(again))).toEqual(Array.from(await logitsOf(peft)));
  });

  it('sends gradients only to adapter tensors and leaves the base unchanged by training', async () => {
    const peft = getPeftModel(newBase(), c.config);
    const trainable = new Set(peft.trainableParameters());
    const frozen = peft.parameters().filter((p) => !trainable.has(p));
    const frozenBefore = await Promise.all(
      frozen.map((p) => p.data<Float32Array>().then(Array.from)),
    );
    const trainableBefore = await Promise.all(
      [...trainable].map((p) => p.data<Float32Array>().then(Array.from)),
    );
    const optimizer = new AdamW(peft.trainableParameters(), { lr: 1e-2 });
    const losses: number[] = [];
    for (let step = 0; step < 4; step++) {
      const { loss } = peft.forward(ids, { targets });
      loss!.backward();
      if (step === 0) {
        for (const p of frozen) expect(p.grad).toBeNull();
        for (const p of trainable) expect(p.grad).not.toBeNull();
      }
      losses.push(loss!.item());
      loss!.dispose();
      optimizer.step();
      optimizer.zeroGrad();
    }
    expect(losses[3]).toBeLessThan(losses[0]);
    const frozenAfter = await Promise.all(
      frozen.map((p) => p.data<Float32Array>().then(Array.from)),
    );
    expect(frozenAfter).toEqual(frozenBefore);
    const trainableAfter = await Promise.all(
      [...trainable].map((p) => p.data<Float32Array>().then(Array.from)),
    );
    for (const [i, values] of trainableAfter.entries())
      expect(values).not.toEqual(trainableBefore[i]);
  });

  it("passes a float64 gradient check of the method's layer", () => {
    for (const result of c.gradchecks())
      expect(result.ok, JSON.stringify(result.firstMismatch)).toBe(true);
  });
});
