// One pre-LayerNorm transformer block (GPT-2, LLaMA): x + attn(norm(x)), then + mlp(norm(x)).
import { add, LayerNorm, Module, RMSNorm, type Tensor } from '@llmkit/core-tensor';
import { CausalSelfAttention, type LayerContext } from './attention.js';
import type { ResolvedGPTConfig } from './config.js';
import { MLP } from './mlp.js';

/** A LayerNorm or RMSNorm, whichever the config asks for. */
export function makeNorm(config: {
  norm: 'layernorm' | 'rmsnorm';
  nEmbd: number;
  normEpsilon: number;
  bias: boolean;
}): LayerNorm | RMSNorm {
  return config.norm === 'rmsnorm'
    ? new RMSNorm(config.nEmbd, { epsilon: config.normEpsilon })
    : new LayerNorm(config.nEmbd, { epsilon: config.normEpsilon, bias: config.bias });
}

/** A GPT block with GPT-2's parameter names (`ln_1`, `attn`, `ln_2`, `mlp`). */
export class Block extends Module {
  /** Norm before attention. */
  readonly ln_1: LayerNorm | RMSNorm;
  /** Causal self-attention. */
  readonly attn: CausalSelfAttention;
  /** Norm before the MLP. */
  readonly ln_2: LayerNorm | RMSNorm;
  /** Feed-forward network. */
  readonly mlp: MLP;

  constructor(config: ResolvedGPTConfig, layerIndex: number) {
    super();
    this.ln_1 = this.addModule('ln_1', makeNorm(config));
    this.attn = this.addModule('attn', new CausalSelfAttention(config, layerIndex));
    this.ln_2 = this.addModule('ln_2', makeNorm(config));
    this.mlp = this.addModule('mlp', new MLP(config));
  }

  /** `[B, T, nEmbd] -> [B, T, nEmbd]`. */
  forward(x: Tensor, context: LayerContext): { output: Tensor; weights?: Tensor } {
    const { output: attended, weights } = this.attn.forward(this.ln_1.forward(x), context);
    const h = add(x, attended);
    return { output: add(h, this.mlp.forward(this.ln_2.forward(h))), weights };
  }
}
