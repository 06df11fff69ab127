// GPT-2's forward pass written directly with core-tensor ops, for the fixture test (until
// @llmkit/transformer exists) and the browser test. Weights use Hugging Face's names; linear
// weights are GPT-2 Conv1D, stored [in, out], so y = x @ W + b.
import {
  embedding,
  layerNorm,
  scaledDotProductAttention,
  type Tensor,
  tensor,
} from '@llmkit/core-tensor';

/** The config fields the forward pass needs. */
export interface Gpt2Config {
  n_layer: number;
  n_head: number;
  n_embd: number;
  layer_norm_epsilon: number;
}

/** Logits [B, T, vocab] for int32 ids [B, T]. */
export function gpt2Forward(
  weights: Record<string, Tensor>,
  config: Gpt2Config,
  ids: Tensor,
): Tensor {
  const w = (name: string): Tensor => {
    const found = weights[`transformer.${name}`] ?? weights[name];
    if (!found) throw new Error(`gpt2: missing weight ${name}`);
    return found;
  };
  const [B, T] = ids.shape;
  const C = config.n_embd;
  const H = config.n_head;
  const eps = { epsilon: config.layer_norm_epsilon };
  const positions = tensor(
    Int32Array.from({ length: T }, (_, i) => i),
    { shape: [1, T] },
  );
  let x = embedding(ids, w('wte.weight')).add(embedding(positions, w('wpe.weight'))); // (B, T, C)
  for (let l = 0; l < config.n_layer; l++) {
    const p = `h.${l}.`;
    const h = layerNorm(x, w(`${p}ln_1.weight`), w(`${p}ln_1.bias`), eps);
    const qkv = h.matmul(w(`${p}attn.c_attn.weight`)).add(w(`${p}attn.c_attn.bias`)); // (B, T, 3C)
    const [q, k, v] = qkv.split(C, -1).map((t) => t.reshape([B, T, H, C / H]).transpose(1, 2)); // (B, H, T, hs)
    const y = scaledDotProductAttention(q, k, v, { causal: true })
      .transpose(1, 2)
      .reshape([B, T, C]);
    x = x.add(y.matmul(w(`${p}attn.c_proj.weight`)).add(w(`${p}attn.c_proj.bias`)));
    const m = layerNorm(x, w(`${p}ln_2.weight`), w(`${p}ln_2.bias`), eps)
      .matmul(w(`${p}mlp.c_fc.weight`))
      .add(w(`${p}mlp.c_fc.bias`))
      .gelu({ approximate: 'tanh' });
    x = x.add(m.matmul(w(`${p}mlp.c_proj.weight`)).add(w(`${p}mlp.c_proj.bias`)));
  }
  x = layerNorm(x, w('ln_f.weight'), w('ln_f.bias'), eps);
  return x.matmul(w('wte.weight').transpose(0, 1)); // tied head: (B, T, vocab)
}
