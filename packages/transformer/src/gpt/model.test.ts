import {
  fromValues,
  Generator,
  manualSeed,
  memory,
  noGrad,
  setBackend,
  type Tensor,
} from '@llmkit/core-tensor';
import { createJsBackend, registerBackend } from '@llmkit/core-tensor/backend';
import { LlmkitError } from '@llmkit/utils';
import { describe, expect, it } from 'vitest';
import { KVCache } from '../kv-cache.js';
import { maxAbsDiff } from '../testing/fixtures.js';
import { parametersWithoutGradient, randomSequences, trainSteps } from '../testing/toy.js';
import { type GPTConfig, llamaConfig } from './config.js';
import { GPT } from './model.js';

const gpt2: GPTConfig = { vocabSize: 17, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 };
const llama: GPTConfig = llamaConfig({
  vocabSize: 17,
  blockSize: 16,
  nLayer: 2,
  nHead: 4,
  nKvHead: 2,
  nEmbd: 16,
});
const variants: [string, GPTConfig][] = [
  ['GPT-2', gpt2],
  ['LLaMA-style (RoPE, RMSNorm, SwiGLU, GQA)', llama],
];

async function rows(t: Tensor): Promise<number[]> {
  return Array.from(await t.data<Float32Array>());
}

describe('GPT config validation', () => {
  const cases: [Partial<GPTConfig>, string][] = [
    [{ nEmbd: 15 }, 'nEmbd'],
    [{ nHead: 4, nKvHead: 3 }, 'nKvHead'],
    [{ vocabSize: 0 }, 'vocabSize'],
    [{ blockSize: 2.5 }, 'blockSize'],
    [{ dropout: 1 }, 'dropout'],
    [{ positionEncoding: 'alibi' as 'rope' }, 'positionEncoding'],
    [{ nHead: 16, positionEncoding: 'rope' }, 'nHead'],
  ];
  it.each(cases)('rejects %o naming the field, before allocating', (override, field) => {
    const before = memory().tensors;
    let error: unknown;
    try {
      new GPT({ ...gpt2, ...override });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LlmkitError);
    expect((error as LlmkitError).code).toBe('invalid_config');
    expect((error as Error).message).toContain(field);
    expect(memory().tensors).toBe(before);
  });

  it('rejects unknown fields', () => {
    expect(() => new GPT({ ...gpt2, nEmbed: 16 } as GPTConfig)).toThrow(/nEmbed/);
  });

  it('names GPT-2 parameters as the Hugging Face checkpoint does', () => {
    manualSeed(0);
    const model = new GPT(gpt2);
    expect(Object.keys(model.stateDict()).sort()).toEqual(
      [
        'wte.weight',
        'wpe.weight',
        'ln_f.weight',
        'ln_f.bias',
        ...[0, 1].flatMap((i) =>
          ['ln_1', 'attn.c_attn', 'attn.c_proj', 'ln_2', 'mlp.c_fc', 'mlp.c_proj'].flatMap((m) => [
            `h.${i}.${m}.weight`,
            `h.${i}.${m}.bias`,
          ]),
        ),
      ].sort(),
    );
    expect(model.h.at(0).attn.c_attn.weight.shape).toEqual([48, 16]);
    model.dispose();
  });
});

describe.each(variants)('GPT %s', (_, config) => {
  it('has the expected shapes and attention weights', async () => {
    manualSeed(1);
    const model = new GPT(config);
    const { logits, attentions } = noGrad(() =>
      model.forward(
        [
          [1, 2, 3, 4, 5],
          [5, 4, 3, 2, 1],
        ],
        { returnAttention: true },
      ),
    );
    expect(logits.shape).toEqual([2, 5, 17]);
    expect(attentions).toHaveLength(2);
    const heads = model.config.nHead;
    expect(attentions![0].shape).toEqual([2, heads, 5, 5]);
    const w = await rows(attentions![0]);
    for (let r = 0; r < 2 * heads * 5; r++) {
      const t = r % 5;
      const row = w.slice(r * 5, r * 5 + 5);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      for (let s = t + 1; s < 5; s++) expect(row[s]).toBe(0); // causal
    }
    model.dispose();
  });

  it('returns the last hidden state the head reads, and gradients flow through it', async () => {
    manualSeed(11);
    const model = new GPT(config);
    const ids = [
      [1, 2, 3, 4],
      [4, 3, 2, 1],
    ];
    const { logits, hiddenState } = model.forward(ids, { returnHiddenState: true });
    expect(hiddenState!.shape).toEqual([2, 4, 16]);
    // the logits are the hidden state times the (tied or untied) head
    const head = model.lm_head ? model.lm_head.weight : model.wte.weight;
    const h = await rows(hiddenState!);
    const w = await rows(head);
    const l = await rows(logits);
    let worst = 0;
    for (let r = 0; r < 8; r++) {
      for (let v = 0; v < 17; v++) {
        let dot = 0;
        for (let c = 0; c < 16; c++) dot += h[r * 16 + c] * w[v * 16 + c];
        worst = Math.max(worst, Math.abs(dot - l[r * 17 + v]));
      }
    }
    expect(worst).toBeLessThan(1e-4);
    // a value head over the hidden state trains the blocks below it
    const loss = hiddenState!.sum();
    loss.backward();
    expect([...model.h][0].attn.c_attn.weight.grad).not.toBeNull();
    const last = noGrad(() => model.forward(ids, { returnHiddenState: true, lastOnly: true }));
    expect(last.hiddenState!.shape).toEqual([2, 1, 16]);
    const lastRows = await rows(last.hiddenState!);
    for (let c = 0; c < 16; c++) expect(lastRows[c]).toBeCloseTo(h[3 * 16 + c], 5);
    expect(noGrad(() => model.forward(ids)).hiddenState).toBeUndefined();
    model.dispose();
  });

  it('is causal: changing a future token leaves earlier logits unchanged', async () => {
    manualSeed(2);
    const model = new GPT(config);
    const a = noGrad(() => model.forward([[1, 2, 3, 4, 5, 6]]).logits);
    const b = noGrad(() => model.forward([[1, 2, 3, 9, 5, 6]]).logits);
    const da = await rows(a);
    const db = await rows(b);
    expect(maxAbsDiff(da.slice(0, 3 * 17), db.slice(0, 3 * 17))).toBe(0);
    expect(maxAbsDiff(da.slice(3 * 17), db.slice(3 * 17))).toBeGreaterThan(1e-4);
    model.dispose();
  });

  it('ignores padding on either side', async () => {
    manualSeed(3);
    const model = new GPT(config);
    const alone = await rows(noGrad(() => model.forward([[4, 5, 6]]).logits));
    const left = await rows(
      noGrad(
        () =>
          model.forward(
            [
              [0, 0, 4, 5, 6],
              [1, 2, 3, 4, 5],
            ],
            {
              attentionMask: [
                [0, 0, 1, 1, 1],
                [1, 1, 1, 1, 1],
              ],
            },
          ).logits,
      ),
    );
    const right = await rows(
      noGrad(
        () =>
          model.forward(
            [
              [4, 5, 6, 9, 9],
              [1, 2, 3, 4, 5],
            ],
            {
              attentionMask: [
                [1, 1, 1, 0, 0],
                [1, 1, 1, 1, 1],
              ],
            },
          ).logits,
      ),
    );
    expect(maxAbsDiff(left.slice(2 * 17, 5 * 17), alone)).toBeLessThan(1e-5);
    expect(maxAbsDiff(right.slice(0, 3 * 17), alone)).toBeLessThan(1e-5);
    model.dispose();
  });

  it('gives the same logits with the KV cache, one token at a time, with padding', async () => {
    manualSeed(4);
    const model = new GPT(config);
    const ids = [
      [0, 3, 1, 4, 1, 5, 9, 2],
      [2, 7, 1, 8, 2, 8, 1, 8],
    ];
    const mask = [
      [0, 1, 1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1, 1, 1],
    ];
    const full = await rows(noGrad(() => model.forward(ids, { attentionMask: mask }).logits));
    const cache = new KVCache();
    const prefill = await rows(
      noGrad(
        () =>
          model.forward(
            ids.map((r) => r.slice(0, 4)),
            { attentionMask: mask.map((r) => r.slice(0, 4)), cache },
          ).logits,
      ),
    );
    const pieces: number[][] = [[], []];
    for (let b = 0; b < 2; b++) pieces[b].push(...prefill.slice(b * 4 * 17, (b + 1) * 4 * 17));
    for (let t = 4; t < 8; t++) {
      const step = await rows(
        noGrad(
          () =>
            model.forward(
              ids.map((r) => [r[t]]),
              { cache },
            ).logits,
        ),
      );
      for (let b = 0; b < 2; b++) pieces[b].push(...step.slice(b * 17, (b + 1) * 17));
    }
    expect(cache.length).toBe(8);
    expect(maxAbsDiff(pieces.flat(), full)).toBeLessThan(1e-5);
    cache.dispose();
    model.dispose();
  });

  it('generates the same ids for a padded batch as for each prompt alone, cached or not', async () => {
    manualSeed(5);
    const model = new GPT(config);
    const prompts = [
      [1, 2, 3, 4, 5],
      [6, 7],
      [8, 9, 10],
    ];
    const batch = await model.generate(prompts, { maxNewTokens: 6 });
    const uncached = await model.generate(prompts, { maxNewTokens: 6, useCache: false });
    const alone = [];
    for (const p of prompts) alone.push((await model.generate([p], { maxNewTokens: 6 }))[0]);
    expect(batch).toEqual(alone);
    expect(uncached).toEqual(alone);
    const streamed: number[][] = prompts.map((p) => [...p]);
    for await (const { row, token } of model.stream(prompts, { maxNewTokens: 6 }))
      streamed[row].push(token);
    expect(streamed).toEqual(alone);
    expect(model.training).toBe(true); // generate restores the mode
    // rows that stop early (EOS) leave the batch; the cache follows the loop's row order
    const eos = batch[0][prompts[0].length + 1];
    const stopped = await model.generate(prompts, { maxNewTokens: 6, eosTokenId: eos });
    const truncate = (row: number[], start: number) => {
      const at = row.indexOf(eos, start);
      return at < 0 ? row : row.slice(0, at + 1);
    };
    expect(stopped).toEqual(alone.map((row, i) => truncate(row, prompts[i].length)));
    // beam search reorders and duplicates rows: cached and recomputed agree
    const beams = await model.generate(prompts, {
      maxNewTokens: 4,
      numBeams: 3,
      numReturnSequences: 2,
    });
    const beamsUncached = await model.generate(prompts, {
      maxNewTokens: 4,
      numBeams: 3,
      numReturnSequences: 2,
      useCache: false,
    });
    expect(beams).toEqual(beamsUncached);
    model.dispose();
  });

  it('sends a gradient to every parameter', async () => {
    manualSeed(6);
    const model = new GPT(config);
    const { loss } = model.forward(
      [
        [1, 2, 3, 4],
        [4, 3, 2, 1],
      ],
      {
        targets: [
          [2, 3, 4, 5],
          [3, 2, 1, -100],
        ],
      },
    );
    expect(await parametersWithoutGradient(model, loss!)).toEqual([]);
    model.dispose();
  });

  it('learns to reverse a sequence', async () => {
    manualSeed(7);
    const model = new GPT({ ...config, vocabSize: 8, nEmbd: 32, nLayer: 2 });
    const generator = new Generator(7);
    const length = 3; // [a b c d 0 d c b a]: loss only on the reversed half
    const batch = () => {
      const seqs = randomSequences(generator, 16, length, 8);
      const full = seqs.map((s) => [...s, 0, ...[...s].reverse()]);
      const inputs = full.map((r) => r.slice(0, -1));
      const targets = full.map((r) => r.slice(1).map((id, t) => (t >= length ? id : -100)));
      return { inputs, targets };
    };
    const final = trainSteps(model, 200, 1e-2, () => {
      const { inputs, targets } = batch();
      return model.forward(inputs, { targets }).loss!;
    });
    expect(final).toBeLessThan(0.05);
    const test = randomSequences(generator, 4, length, 8).map((s) => [...s, 0]);
    const out = await model.generate(test, { maxNewTokens: length });
    expect(out.map((r) => r.slice(length + 1))).toEqual(
      test.map((r) => r.slice(0, length).reverse()),
    );
    model.dispose();
  });
});

describe('GPT prompt length', () => {
  it('rejects a prompt longer than blockSize, or crops it with truncation left', async () => {
    manualSeed(8);
    const model = new GPT({ ...gpt2, blockSize: 6 });
    const prompt = [1, 2, 3, 4, 5, 6, 7, 8];
    await expect(model.generate([prompt], { maxNewTokens: 2 })).rejects.toThrow(
      /prompt 0 has 8 tokens, more than blockSize 6/,
    );
    await expect(model.generate([[1, 2, 3, 4, 5]], { maxNewTokens: 3 })).rejects.toThrow(
      /maxNewTokens/,
    );
    const cropped = await model.generate([prompt], { maxNewTokens: 4, truncation: 'left' });
    expect(cropped[0].slice(0, 8)).toEqual(prompt);
    // with truncation, each new token is what the model predicts from the last blockSize tokens
    const expected = [...prompt];
    for (let i = 0; i < 4; i++) {
      const window = expected.slice(-6);
      const logits = Array.from(
        await noGrad(() => model.forward([window]).logits).data<Float32Array>(),
      ).slice(-17);
      expected.push(logits.indexOf(Math.max(...logits)));
    }
    expect(cropped[0]).toEqual(expected);
    expect(() => model.forward([prompt])).toThrow(/exceed blockSize 6/);
    model.dispose();
  });
});

describe('GPT ids as a tensor', () => {
  // A js backend without readSync behaves like WebGPU for the model code: reads only with await.
  registerBackend('js-async', () => ({
    ...createJsBackend({ name: 'js-async' }),
    readSync: undefined,
  }));

  it('runs forward on ids given as a tensor on a backend that reads only asynchronously', async () => {
    await setBackend('js-async');
    try {
      manualSeed(9);
      const model = new GPT(gpt2);
      const ids = [
        [1, 2, 3, 4],
        [4, 3, 2, 16],
      ];
      const idsTensor = fromValues(Int32Array.from(ids.flat()), [2, 4], { dtype: 'int32' });
      expect(() => idsTensor.dataSync()).toThrow(/reads asynchronously/);
      const fromRows = await rows(noGrad(() => model.forward(ids).logits));
      const out = noGrad(() => model.forward(idsTensor, { targets: ids }));
      expect(out.logits.backend.name).toBe('js-async');
      expect(await rows(out.logits)).toEqual(fromRows);
      expect(Number.isFinite((await out.loss!.data())[0])).toBe(true);
      // The ids are not read back: an int64 tensor is cast on the device.
      const wide = noGrad(() => model.forward(idsTensor.to('int64')).logits);
      expect(await rows(wide)).toEqual(fromRows);
      // A mask decides positions on the host: a tensor mask needs a synchronous backend.
      const mask = fromValues(new Int32Array(8).fill(1), [2, 4], { dtype: 'int32' });
      expect(() => model.forward(idsTensor, { attentionMask: mask })).toThrow(
        /attentionMask is a tensor on backend 'js-async', which reads only asynchronously; pass it as rows/,
      );
      expect(() => model.forward(fromValues(new Int32Array(4), [4], { dtype: 'int32' }))).toThrow(
        /inputIds must be a non-empty \[batch, sequence\], got shape \[4\]/,
      );
      const onJs = fromValues(Int32Array.from(ids.flat()), [2, 4], {
        dtype: 'int32',
        backend: 'js',
      });
      expect(() => model.forward(onJs)).not.toThrow(); // read on the host, rebuilt on js-async
      model.dispose();
    } finally {
      await setBackend('js');
    }
  });
});

describe('returnLogits: false', () => {
  it('gives the same loss and gradients as the logits path, tied or untied, without logits', async () => {
    for (const tieWordEmbeddings of [true, false]) {
      manualSeed(5);
      const model = new GPT({
        vocabSize: 97,
        blockSize: 16,
        nLayer: 1,
        nHead: 2,
        nEmbd: 16,
        tieWordEmbeddings,
      });
      const ids = [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
      ];
      const targets = [
        [2, 3, 4, -100],
        [6, 7, 8, 9],
      ];
      const fused = model.forward(ids, { targets, returnLogits: false });
      expect(fused.logits).toBeUndefined();
      (fused.loss as Tensor).backward();
      const grads = await Promise.all(
        model.parameters().map(async (p) => Array.from(await (p.grad as Tensor).data())),
      );
      model.zeroGrad();
      const plain = model.forward(ids, { targets });
      (plain.loss as Tensor).backward();
      expect((fused.loss as Tensor).item()).toBeCloseTo((plain.loss as Tensor).item(), 5);
      for (const [i, p] of model.parameters().entries()) {
        const reference = Array.from(await (p.grad as Tensor).data());
        const worst = Math.max(...reference.map((r, j) => Math.abs(r - grads[i][j])));
        expect(worst).toBeLessThan(1e-5);
      }
      model.dispose();
    }
  });
});

describe('gradientCheckpointing', () => {
  it('gives the same loss and gradients, keeping only block inputs', async () => {
    manualSeed(9);
    const model = new GPT(
      llamaConfig({ vocabSize: 61, blockSize: 16, nLayer: 3, nHead: 4, nKvHead: 2, nEmbd: 32 }),
    );
    const ids = [[1, 2, 3, 4, 5, 6]];
    const targets = [[2, 3, 4, 5, 6, 7]];
    const gradsOf = async () => {
      model.zeroGrad();
      const { loss } = model.forward(ids, { targets });
      (loss as Tensor).backward();
      const value = (loss as Tensor).item();
      const grads = await Promise.all(
        model.parameters().map(async (p) => Array.from(await (p.grad as Tensor).data())),
      );
      return { value, grads };
    };
    const plain = await gradsOf();
    model.gradientCheckpointing = true;
    const recomputed = await gradsOf();
    expect(recomputed.value).toBe(plain.value);
    for (const [i, g] of plain.grads.entries())
      expect(maxAbsDiff(recomputed.grads[i], g)).toBeLessThan(1e-6);
    model.dispose();
  });
});
