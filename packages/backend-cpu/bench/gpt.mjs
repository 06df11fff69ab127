// nanoGPT's model (Karpathy, model.py) written with core-tensor's nn and ops, for the training
// step benchmark: token + position embeddings, pre-norm blocks (causal self-attention, GELU MLP),
// final LayerNorm, lm_head tied to the token embedding; no bias, no dropout. Same shapes and
// initialisation as torch_bench.py's GPT. (The transformer package will own the real model.)
import * as t from '@llmkit/core-tensor';

class Block extends t.Module {
  constructor(c, heads, generator) {
    super();
    this.heads = heads;
    const linear = (i, o) => new t.Linear(i, o, { bias: false, generator });
    this.ln_1 = this.addModule('ln_1', new t.LayerNorm(c, { bias: false }));
    this.c_attn = this.addModule('c_attn', linear(c, 3 * c));
    this.attn_proj = this.addModule('attn_proj', linear(c, c));
    this.ln_2 = this.addModule('ln_2', new t.LayerNorm(c, { bias: false }));
    this.c_fc = this.addModule('c_fc', linear(c, 4 * c));
    this.mlp_proj = this.addModule('mlp_proj', linear(4 * c, c));
  }

  forward(x) {
    const [B, T, C] = x.shape;
    const head = C / this.heads;
    const [q, k, v] = this.c_attn
      .forward(this.ln_1.forward(x))
      .split(C, 2)
      .map((z) => z.reshape([B, T, this.heads, head]).transpose(1, 2)); // (B, nh, T, hs)
    const y = t.scaledDotProductAttention(q, k, v, { causal: true });
    x = t.add(x, this.attn_proj.forward(y.transpose(1, 2).reshape([B, T, C])));
    return t.add(x, this.mlp_proj.forward(t.gelu(this.c_fc.forward(this.ln_2.forward(x)))));
  }
}

/** The GPT of nanoGPT's small CPU config. */
export class Gpt extends t.Module {
  constructor({ vocab = 65, block = 64, layers = 4, heads = 4, embedding = 128, seed = 0 } = {}) {
    super();
    const generator = new t.Generator(seed);
    this.wte = this.addModule('wte', new t.Embedding(vocab, embedding, { std: 0.02, generator }));
    this.wpe = this.addModule('wpe', new t.Embedding(block, embedding, { std: 0.02, generator }));
    this.blocks = Array.from({ length: layers }, () => new Block(embedding, heads, generator));
    this.addModule('h', new t.ModuleList(this.blocks));
    this.ln_f = this.addModule('ln_f', new t.LayerNorm(embedding, { bias: false }));
    // nanoGPT initialises every 2-D weight with N(0, 0.02).
    t.noGrad(() => {
      for (const [, p] of this.namedParameters()) {
        if (p.rank === 2) t.assign(p, t.mul(t.randn(p.shape, { generator }), 0.02));
      }
    });
  }

  /** Mean cross-entropy of next-token prediction; idx and targets are int32 [B, T]. */
  loss(idx, targets) {
    const [B, T] = idx.shape;
    const positions = t.arange(0, T, 1, { dtype: 'int32' });
    let x = t.add(this.wte.forward(idx), this.wpe.forward(positions));
    for (const block of this.blocks) x = block.forward(x);
    const logits = t.matmul(this.ln_f.forward(x), this.wte.weight.transpose(0, 1)); // tied lm_head
    return t.crossEntropy(logits.reshape([B * T, -1]), targets.reshape([B * T]));
  }
}

/**
 * Times `steps` AdamW training steps (after 10 warm-up steps) of the GPT on the active backend;
 * returns the mean, median and best milliseconds per step and the first loss.
 */
export function timeTrainingStep({ steps = 20, profile } = {}) {
  const model = new Gpt();
  const parameters = model.parameters();
  const optimizer = new t.AdamW(
    [
      { params: parameters.filter((p) => p.rank >= 2), weightDecay: 0.1 },
      { params: parameters.filter((p) => p.rank < 2), weightDecay: 0 },
    ],
    { lr: 1e-3, betas: [0.9, 0.99] },
  );
  const generator = new t.Generator(1);
  const idx = t.randint(0, 65, [12, 64], { generator });
  const targets = t.randint(0, 65, [12, 64], { generator });
  const losses = [];
  const step = () =>
    t.tidy(() => {
      const loss = model.loss(idx, targets);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      losses.push(loss.item());
    });
  for (let i = 0; i < 10; i++) step(); // warm-up: JIT, pools, scratch buffers
  profile?.(true);
  const times = [];
  for (let i = 0; i < steps; i++) {
    const started = performance.now();
    step();
    times.push(performance.now() - started);
  }
  const meanMs = times.reduce((sum, x) => sum + x, 0) / times.length;
  times.sort((a, b) => a - b);
  return {
    meanMs,
    medianMs: times[Math.floor(times.length / 2)],
    bestMs: times[0],
    firstLoss: losses[0],
    parameters: model.parameterCount(),
  };
}
