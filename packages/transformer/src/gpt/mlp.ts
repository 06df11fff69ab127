// The feed-forward half of a GPT block: GPT-2's c_fc -> GELU -> c_proj, or LLaMA's SwiGLU
// (Shazeer, 2020: silu(x W_gate) * (x W_up), then down). For SwiGLU, `c_fc` holds the gate and up
// projections stacked ([gate | up] along the output features) so one matmul makes both.
import {
  Dropout,
  gelu,
  Linear,
  Module,
  mul,
  narrow,
  relu,
  silu,
  type Tensor,
} from '@llmkit/core-tensor';
import type { ResolvedGPTConfig } from './config.js';

/** GPT-2 MLP or SwiGLU, with GPT-2's parameter names (`c_fc`, `c_proj`). */
export class MLP extends Module {
  /** `[intermediateSize, nEmbd]`, or `[2 * intermediateSize, nEmbd]` for SwiGLU (gate, then up). */
  readonly c_fc: Linear;
  /** `[nEmbd, intermediateSize]`. */
  readonly c_proj: Linear;
  private readonly dropout: Dropout;

  constructor(private readonly config: ResolvedGPTConfig) {
    super();
    const { nEmbd, intermediateSize, bias, mlp } = config;
    const width = mlp === 'swiglu' ? 2 * intermediateSize : intermediateSize;
    this.c_fc = this.addModule('c_fc', new Linear(nEmbd, width, { bias }));
    this.c_proj = this.addModule('c_proj', new Linear(intermediateSize, nEmbd, { bias }));
    this.dropout = this.addModule('dropout', new Dropout(config.dropout));
  }

  /** `[B, T, nEmbd] -> [B, T, nEmbd]`. */
  forward(x: Tensor): Tensor {
    const h = this.c_fc.forward(x);
    let hidden: Tensor;
    if (this.config.mlp === 'swiglu') {
      const size = this.config.intermediateSize;
      hidden = mul(silu(narrow(h, -1, 0, size)), narrow(h, -1, size, size));
    } else {
      hidden = activate(h, this.config.activation);
    }
    return this.dropout.forward(this.c_proj.forward(hidden));
  }
}

/** Applies a named activation. */
export function activate(x: Tensor, activation: 'gelu-tanh' | 'gelu' | 'relu' | 'silu'): Tensor {
  switch (activation) {
    case 'gelu-tanh':
      return gelu(x, { approximate: 'tanh' });
    case 'gelu':
      return gelu(x);
    case 'relu':
      return relu(x);
    case 'silu':
      return silu(x);
  }
}
