// Rotary position embeddings (Su et al., 2021, "RoFormer"), in Hugging Face LLaMA's layout: the
// head dimension is split into halves [x1, x2] and rotated as (x1 cos - x2 sin, x2 cos + x1 sin).
// The tables are built here; the rotation is core-tensor's `rope` op (the backend's fused kernel
// when it has one, composed from narrow / cat / mul / add otherwise; gradients from its table).
import { embedding, fromValues, rope, type Tensor, unsqueeze } from '@llmkit/core-tensor';
import type { RopeScaling } from './gpt/config.js';

/** cos and sin tables `[positions, headSize]` for rotary embeddings. */
export interface RopeTables {
  /** cos(position * theta^(-2i / headSize)), repeated over both halves. */
  cos: Tensor;
  /** sin of the same angles. */
  sin: Tensor;
}

/**
 * Inverse frequencies theta^(-2i / headSize), i < headSize / 2, rescaled as Llama 3.1 does when
 * `scaling` is given (Hugging Face's `_compute_llama3_parameters`).
 */
export function ropeFrequencies(
  headSize: number,
  theta: number,
  scaling?: RopeScaling | null,
): Float64Array {
  const half = headSize / 2;
  const frequencies = new Float64Array(half);
  for (let i = 0; i < half; i++) frequencies[i] = theta ** ((-2 * i) / headSize);
  if (!scaling) return frequencies;
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositions } = scaling;
  const lowFreqWavelength = originalMaxPositions / lowFreqFactor;
  const highFreqWavelength = originalMaxPositions / highFreqFactor;
  for (let i = 0; i < half; i++) {
    const wavelength = (2 * Math.PI) / frequencies[i];
    if (wavelength > lowFreqWavelength) frequencies[i] /= factor;
    else if (wavelength >= highFreqWavelength) {
      const smooth =
        (originalMaxPositions / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
      frequencies[i] = (1 - smooth) * (frequencies[i] / factor) + smooth * frequencies[i];
    }
  }
  return frequencies;
}

/** Builds the tables for `positions` positions and an even `headSize`. */
export function ropeTables(
  positions: number,
  headSize: number,
  theta: number,
  scaling?: RopeScaling | null,
): RopeTables {
  const half = headSize / 2;
  const cos = new Float32Array(positions * headSize);
  const sin = new Float32Array(positions * headSize);
  const frequencies = ropeFrequencies(headSize, theta, scaling);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * frequencies[i];
      cos[p * headSize + i] = cos[p * headSize + i + half] = Math.cos(angle);
      sin[p * headSize + i] = sin[p * headSize + i + half] = Math.sin(angle);
    }
  }
  return {
    cos: fromValues(cos, [positions, headSize]),
    sin: fromValues(sin, [positions, headSize]),
  };
}

/** Looks up the tables at int32 `positions [B, T]`: cos and sin `[B, 1, T, headSize]`. */
export function ropeAt(tables: RopeTables, positions: Tensor): RopeTables {
  return {
    cos: unsqueeze(embedding(positions, tables.cos), 1),
    sin: unsqueeze(embedding(positions, tables.sin), 1),
  };
}

/**
 * Rotates `x [B, H, T, D]` by the angles of `at` (from {@link ropeAt}):
 * x cos + rotate_half(x) sin.
 */
export function applyRope(x: Tensor, at: RopeTables): Tensor {
  return rope(x, at.cos, at.sin);
}
