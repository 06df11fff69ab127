// A GPT-2-style model (pre-LayerNorm blocks, causal attention, tanh GELU, tied head) built from
// @llmkit/core-tensor's nn, for the training-step benchmark. bench/peer.py mirrors it in PyTorch.
import {
  crossEntropy,
  Embedding,
  LayerNorm,
  Linear,
  Module,
  scaledDotProductAttention,
  tensor,
} from '@llmkit/core-tensor';

class Block extends Module {
  constructor(C, H) {
    super();
    this.H = H;
    this.ln1 = this.addModule('ln_1', new LayerNorm(C));
    this.attn = this.addModule('c_attn', new Linear(C, 3 * C));
    this.proj = this.addModule('c_proj', new Linear(C, C));
    this.ln2 = this.addModule('ln_2', new LayerNorm(C));
    this.fc = this.addModule('c_fc', new Linear(C, 4 * C));
    this.out = this.addModule('mlp_proj', new Linear(4 * C, C));
  }

  forward(x) {
    const [B, T, C] = x.shape;
    const [q, k, v] = this.attn
      .forward(this.ln1.forward(x))
      .split(C, -1)
      .map((t) => t.reshape([B, T, this.H, C / this.H]).transpose(1, 2)); // (B, nh, T, hs)
    const y = scaledDotProductAttention(q, k, v, { causal: true })
      .transpose(1, 2)
      .reshape([B, T, C]);
    x = x.add(this.proj.forward(y));
    return x.add(
      this.out.forward(this.fc.forward(this.ln2.forward(x)).gelu({ approximate: 'tanh' })),
    );
  }
}

/** GPT with config { layers, heads, embd, block, vocab }. */
export class Gpt extends Module {
  constructor(config) {
    super();
    this.config = config;
    this.wte = this.addModule('wte', new Embedding(config.vocab, config.embd));
    this.wpe = this.addModule('wpe', new Embedding(config.block, config.embd));
    this.blocks = Array.from({ length: config.layers }, (_, i) =>
      this.addModule(`h${i}`, new Block(config.embd, config.heads)),
    );
    this.lnF = this.addModule('ln_f', new LayerNorm(config.embd));
  }

  /** Mean cross-entropy of next-token prediction; ids and targets int32 [B, T]. */
  loss(ids, targets) {
    const [B, T] = ids.shape;
    const positions = tensor(
      Int32Array.from({ length: T }, (_, i) => i),
      { shape: [1, T] },
    );
    let x = this.wte.forward(ids).add(this.wpe.forward(positions));
    for (const block of this.blocks) x = block.forward(x);
    const logits = this.lnF.forward(x).matmul(this.wte.weight.transpose(0, 1)); // (B, T, vocab)
    return crossEntropy(logits.reshape([B * T, this.config.vocab]), targets.reshape([B * T]));
  }
}
