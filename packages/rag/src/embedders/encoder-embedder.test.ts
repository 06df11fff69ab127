import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromValues, gradcheck, manualSeed, noGrad, randn } from '@llmkit/core-tensor';
import { trainBpe } from '@llmkit/tokenizer';
import { Encoder, type EncoderConfig } from '@llmkit/transformer';
import { afterAll, describe, expect, it } from 'vitest';
import { RagError } from '../errors.js';
import { contrastiveBatchLoss, infoNceLoss, trainContrastive } from './contrastive.js';
import { loadEncoderEmbedder, saveEncoderEmbedder } from './encoder-checkpoint.js';
import { createEncoderEmbedder, type EmbedderTokenizer } from './encoder-embedder.js';

const config: EncoderConfig = { vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 };

/** Ids are character codes modulo the vocabulary, shifted past 0 (the padding id). */
const charTokenizer: EmbedderTokenizer = {
  encode: (text) => Array.from(text, (c) => 1 + (c.charCodeAt(0) % (config.vocabSize - 1))),
};

const dir = mkdtempSync(join(tmpdir(), 'llmkit-encoder-embedder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('createEncoderEmbedder', () => {
  it('mean-pools the real tokens only: padding ids change nothing, the mean matches by hand', async () => {
    manualSeed(3);
    const model = new Encoder(config);
    const texts = ['lift', 'a much longer text', 'drag'];
    const plain = createEncoderEmbedder({ model, tokenizer: charTokenizer, normalize: false });
    const otherPad = createEncoderEmbedder({
      model,
      tokenizer: charTokenizer,
      normalize: false,
      padTokenId: 17,
    });
    const [a, b] = [await plain.embed(texts), await otherPad.embed(texts)];
    for (const i of [0, 2]) expect(maxAbsDiff(a[i], b[i])).toBeLessThan(1e-6);
    // by hand: the mean of the token vectors of 'lift' encoded alone (no padding at all)
    const ids = Array.from(charTokenizer.encode('lift'));
    const hidden = noGrad(() => model.forward([ids]).lastHiddenState);
    const values = await hidden.data<Float32Array>();
    hidden.dispose();
    const mean = new Float32Array(config.nEmbd);
    for (let t = 0; t < ids.length; t++)
      for (let c = 0; c < config.nEmbd; c++) mean[c] += values[t * config.nEmbd + c] / ids.length;
    expect(maxAbsDiff(a[0], mean)).toBeLessThan(1e-5);
    // normalized vectors are the same direction with unit length
    const [unit] = await createEncoderEmbedder({ model, tokenizer: charTokenizer }).embed(['lift']);
    const norm = Math.hypot(...mean);
    expect(
      maxAbsDiff(
        unit,
        Array.from(mean, (v) => v / norm),
      ),
    ).toBeLessThan(1e-5);
    expect(plain.dimension).toBe(16);
    model.dispose();
  });

  it('gives a batch the same vectors as one text at a time, in order', async () => {
    manualSeed(4);
    const model = new Encoder(config);
    const texts = ['x', 'wings make lift', 'drag', '', 'the boundary layer', 'a', 'shock waves!'];
    const embedder = createEncoderEmbedder({ model, tokenizer: charTokenizer, batchSize: 3 });
    const progress: number[] = [];
    const batch = await embedder.embed(texts, { onProgress: (p) => progress.push(p.done) });
    expect(progress.at(-1)).toBe(texts.length);
    for (let i = 0; i < texts.length; i++) {
      const [alone] = await embedder.embed([texts[i]]);
      expect(maxAbsDiff(batch[i], alone), texts[i]).toBeLessThan(1e-5);
    }
    expect(maxAbsDiff(batch[1], batch[4])).toBeGreaterThan(1e-3); // not all the same
    // texts longer than maxLength are cut: only the first maxLength tokens count
    const short = createEncoderEmbedder({ model, tokenizer: charTokenizer, maxLength: 4 });
    const [cut, prefix] = await short.embed(['wings make lift', 'wing']);
    expect(maxAbsDiff(cut, prefix)).toBeLessThan(1e-5);
    model.dispose();
  });

  it('reports bad options and inputs with RagError, and stops on abort', async () => {
    manualSeed(5);
    const model = new Encoder(config);
    expect(() => createEncoderEmbedder({ model, tokenizer: charTokenizer, maxLength: 17 })).toThrow(
      /maxLength is 17, expected an integer in \[1, 16\]/,
    );
    const wide: EmbedderTokenizer = { encode: () => [3, 40] };
    await expect(createEncoderEmbedder({ model, tokenizer: wide }).embed(['x'])).rejects.toThrow(
      /id 40 .* expected an integer in \[0, 40\)/,
    );
    const controller = new AbortController();
    controller.abort();
    const embedder = createEncoderEmbedder({ model, tokenizer: charTokenizer, batchSize: 1 });
    await expect(embedder.embed(['a', 'b'], { signal: controller.signal })).rejects.toMatchObject({
      code: 'aborted',
    });
    await expect(
      trainContrastive(model, [{ query: 'a', positive: 'b' }], { tokenizer: charTokenizer }),
    ).rejects.toThrow(RagError);
    await expect(
      trainContrastive(
        model,
        [
          { query: 'a', positive: 'b' },
          { query: 'c', positive: 'd' },
        ],
        { tokenizer: charTokenizer, batchSize: 1 },
      ),
    ).rejects.toThrow(/batchSize is 1, expected an integer >= 2/);
    model.dispose();
  });

  it('saves and loads a trained embedder with its BPE tokenizer', async () => {
    const text = 'wings make lift when air flows fast over them; drag grows with speed. '.repeat(4);
    const tokenizer = trainBpe(text, { vocabSize: 300 });
    manualSeed(6);
    const model = new Encoder({ ...config, vocabSize: 300 });
    const embedder = createEncoderEmbedder({ model, tokenizer, maxLength: 12 });
    await saveEncoderEmbedder(join(dir, 'embedder'), embedder, { notes: { steps: 0 } });
    const loaded = await loadEncoderEmbedder(join(dir, 'embedder'));
    const texts = ['wings make lift', 'drag grows with speed and more than twelve tokens here'];
    const [before, after] = [await embedder.embed(texts), await loaded.embed(texts)];
    for (let i = 0; i < texts.length; i++) expect(maxAbsDiff(before[i], after[i])).toBe(0);
    expect(loaded.maxLength).toBe(12);
    expect(loaded.notes).toEqual({ steps: 0 });
    await expect(loadEncoderEmbedder(dir)).rejects.toThrow(/embedder\.json/);
    model.dispose();
    loaded.model.dispose();
  });
});

describe('contrastive loss', () => {
  it('matches InfoNCE computed by hand, and its gradient matches finite differences (float64)', async () => {
    manualSeed(7);
    const [B, D] = [4, 5];
    const q = randn([B, D], { dtype: 'float64' });
    const p = randn([B, D], { dtype: 'float64' });
    const [qv, pv] = [await q.data<Float64Array>(), await p.data<Float64Array>()];
    const temperature = 0.3;
    // by hand: -log softmax(q pᵀ / t)[i, i], averaged; and the column-wise version for symmetric
    const score = (i: number, j: number) => {
      let s = 0;
      for (let d = 0; d < D; d++) s += qv[i * D + d] * pv[j * D + d];
      return s / temperature;
    };
    let rows = 0;
    let columns = 0;
    for (let i = 0; i < B; i++) {
      const lseRow = Math.log(
        Array.from({ length: B }, (_, j) => Math.exp(score(i, j))).reduce((a, b) => a + b),
      );
      const lseColumn = Math.log(
        Array.from({ length: B }, (_, j) => Math.exp(score(j, i))).reduce((a, b) => a + b),
      );
      rows += (lseRow - score(i, i)) / B;
      columns += (lseColumn - score(i, i)) / B;
    }
    const loss = infoNceLoss(q, p, { temperature });
    expect((await loss.data<Float64Array>())[0]).toBeCloseTo(rows, 12);
    const symmetric = infoNceLoss(q, p, { temperature, symmetric: true });
    expect((await symmetric.data<Float64Array>())[0]).toBeCloseTo((rows + columns) / 2, 12);
    for (const sym of [false, true]) {
      const result = gradcheck(
        (a, b) => infoNceLoss(a, b, { temperature, symmetric: sym }),
        [q, p],
      );
      expect(result.ok, JSON.stringify(result.firstMismatch)).toBe(true);
    }
    expect(() => infoNceLoss(q, randn([B, D + 1], { dtype: 'float64' }))).toThrow(
      /\[4,5\].*\[4,6\]/,
    );
  });

  it('gives the encoder gradients that match finite differences (float32, tolerant)', async () => {
    manualSeed(8);
    const model = new Encoder({ ...config, nLayer: 1 });
    const queries = [
      [1, 2, 3],
      [4, 5],
      [6, 7, 8, 9],
      [10, 11],
    ];
    const positives = [
      [2, 3, 12],
      [5, 13, 14, 15],
      [7, 9],
      [11, 16, 17],
    ];
    const evaluate = async () => {
      const loss = noGrad(() =>
        contrastiveBatchLoss(model, queries, positives, 0, { temperature: 0.2 }),
      );
      const value = (await loss.data())[0];
      loss.dispose();
      return value;
    };
    const loss = contrastiveBatchLoss(model, queries, positives, 0, { temperature: 0.2 });
    loss.backward();
    loss.dispose();
    const named = Object.fromEntries(model.namedParameters());
    const checked = [
      'embeddings.word_embeddings.weight',
      'encoder.layer.0.attention.self.value.weight',
      'encoder.layer.0.intermediate.dense.weight',
      'encoder.layer.0.output.dense.weight',
      'embeddings.LayerNorm.weight',
    ];
    const epsilon = 3e-3; // fp32 loss: smaller steps drown in rounding, larger in curvature
    let compared = 0;
    for (const name of checked) {
      const parameter = named[name];
      const gradient = Array.from(await parameter.grad!.data<Float32Array>());
      // the three largest gradient elements of each parameter
      const picks = gradient
        .map((g, i) => [Math.abs(g), i] as const)
        .sort((a, b) => b[0] - a[0])
        .slice(0, 3)
        .map(([, i]) => i);
      for (const index of picks) {
        const original = await parameter.data<Float32Array>();
        const set = (delta: number) => {
          const values = original.slice();
          values[index] += delta;
          noGrad(() => parameter.assign(fromValues(values, parameter.shape)));
        };
        set(epsilon);
        const plus = await evaluate();
        set(-epsilon);
        const minus = await evaluate();
        set(0);
        const numeric = (plus - minus) / (2 * epsilon);
        expect(Math.abs(gradient[index]), `${name}[${index}]`).toBeGreaterThan(1e-3); // not vacuous
        expect(Math.abs(numeric - gradient[index]), `${name}[${index}]`).toBeLessThan(
          5e-5 + 0.02 * Math.abs(gradient[index]),
        );
        compared++;
      }
    }
    expect(compared).toBe(15);
    model.dispose();
  });
});

// A paraphrase task: 60 concepts, each written as one of three synonyms. A document names three
// concepts with their first synonym (plus two filler words); its queries name the same concepts in
// another order, each with a random synonym, and other fillers. Test documents combine concepts in
// ways the training pairs never did, so the model must learn which words mean the same.
function paraphraseTask(seed: number) {
  let state = seed;
  const random = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const shuffle = <T>(items: T[]) => {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  };
  const concepts = Array.from({ length: 60 }, (_, c) => [0, 1, 2].map((s) => `c${c}s${s}`));
  const fillers = Array.from({ length: 20 }, (_, f) => `f${f}`);
  const vocabulary = new Map(['<pad>', ...concepts.flat(), ...fillers].map((w, i) => [w, i]));
  const tokenizer: EmbedderTokenizer = {
    encode: (text) => text.split(' ').map((w) => vocabulary.get(w)!),
  };
  const seen = new Set<string>();
  const combination = () => {
    for (;;) {
      const three = shuffle(concepts.map((_, c) => c))
        .slice(0, 3)
        .sort((a, b) => a - b);
      const key = three.join(',');
      if (!seen.has(key)) {
        seen.add(key);
        return three;
      }
    }
  };
  const documentOf = (three: number[]) =>
    shuffle([...three.map((c) => concepts[c][0]), pick(fillers), pick(fillers)]).join(' ');
  const queryOf = (three: number[]) =>
    shuffle([...three.map((c) => pick(concepts[c])), pick(fillers)]).join(' ');
  const train = Array.from({ length: 500 }, combination).flatMap((three) =>
    [0, 1, 2].map(() => ({ query: queryOf(three), positive: documentOf(three) })),
  );
  const test = Array.from({ length: 200 }, combination).map((three) => ({
    document: documentOf(three),
    query: queryOf(three),
  }));
  return { tokenizer, vocabSize: vocabulary.size, train, test };
}

async function recallAt(
  k: number,
  embed: (texts: string[]) => Promise<Float32Array[]>,
  test: { document: string; query: string }[],
) {
  const documents = await embed(test.map((t) => t.document));
  const queries = await embed(test.map((t) => t.query));
  let hits = 0;
  queries.forEach((query, i) => {
    const scores = documents.map((d) => d.reduce((s, v, j) => s + v * query[j], 0));
    const better = scores.filter((s) => s > scores[i]).length;
    if (better < k) hits++;
  });
  return hits / test.length;
}

describe('trainContrastive', () => {
  it('is deterministic for a seed and reports progress', async () => {
    const task = paraphraseTask(1);
    const tinyEncoder = () => {
      manualSeed(11);
      return new Encoder({
        vocabSize: task.vocabSize,
        blockSize: 8,
        nLayer: 1,
        nHead: 2,
        nEmbd: 16,
      });
    };
    const run = async () => {
      const model = tinyEncoder();
      const progress: number[] = [];
      const result = await trainContrastive(model, task.train.slice(0, 40), {
        tokenizer: task.tokenizer,
        batchSize: 8,
        epochs: 2,
        seed: 3,
        onProgress: (p) => progress.push(p.done / p.total),
      });
      model.dispose();
      return { ...result, progress };
    };
    const [a, b] = [await run(), await run()];
    expect(a.steps).toBe(10);
    expect(a.losses).toHaveLength(10);
    expect(a.losses).toEqual(b.losses);
    expect(a.progress.at(-1)).toBe(1);
    // an abort stops training between steps
    const controller = new AbortController();
    const model = tinyEncoder();
    const steps: number[] = [];
    await expect(
      trainContrastive(model, task.train.slice(0, 40), {
        tokenizer: task.tokenizer,
        batchSize: 8,
        signal: controller.signal,
        onStep: (step) => {
          steps.push(step);
          if (step === 2) controller.abort();
        },
      }),
    ).rejects.toMatchObject({ code: 'aborted' });
    expect(steps).toEqual([1, 2]);
    expect(model.training).toBe(false);
    model.dispose();
  });

  it('learns paraphrases: recall@5 of held-out queries rises well above the untrained model', async () => {
    const task = paraphraseTask(2);
    manualSeed(12);
    const model = new Encoder({
      vocabSize: task.vocabSize,
      blockSize: 8,
      nLayer: 1,
      nHead: 2,
      nEmbd: 32,
    });
    const embedder = createEncoderEmbedder({ model, tokenizer: task.tokenizer, batchSize: 64 });
    const embed = (texts: string[]) => embedder.embed(texts);
    const before = await recallAt(5, embed, task.test);
    const { losses } = await trainContrastive(model, task.train, {
      tokenizer: task.tokenizer,
      epochs: 4,
      batchSize: 32,
      learningRate: 3e-3,
      temperature: 0.05,
      seed: 1,
    });
    const after = await recallAt(5, embed, task.test);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    console.log(
      `paraphrase task, 200 held-out queries: recall@5 untrained ${before.toFixed(3)}, trained ${after.toFixed(3)}; loss ${mean(losses.slice(0, 10)).toFixed(3)} -> ${mean(losses.slice(-10)).toFixed(3)} in ${losses.length} steps`,
    );
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 10)) * 0.5);
    expect(after).toBeGreaterThan(before + 0.3);
    expect(after).toBeGreaterThan(0.7);
    model.dispose();
  }, 60_000); // took 13 s at a load average of 18 on two shared cores
});
