// Initialisers: fill a tensor in place from the seeded generator, like torch.nn.init.
import { noGrad } from '../autograd/grad-mode.js';
import { TensorError } from '../errors.js';
import { fromValues } from '../ops/creation.js';
import { defaultGenerator, type Generator } from '../random.js';
import type { Tensor } from '../tensor.js';

/** Options of the random initialisers. */
export interface InitOptions {
  /** Generator to draw from (default: the global one). */
  generator?: Generator;
}

let skipping = 0;

/**
 * Builds modules with every initialiser turned off (parameters keep the zeros they are created
 * with, and no random numbers are drawn), for models whose weights are loaded right after, like
 * Hugging Face's `no_init_weights`. Building GPT-2 124M this way skips ~250 million draws.
 *
 * @example
 * ```ts
 * const model = withoutInit(() => new GPT(config)); // then load its weights
 * ```
 */
export function withoutInit<T>(build: () => T): T {
  skipping++;
  try {
    return build();
  } finally {
    skipping--;
  }
}

function fill(t: Tensor, draw: () => number): Tensor {
  if (skipping > 0) return t;
  const values = new Float64Array(t.size);
  for (let i = 0; i < values.length; i++) values[i] = draw();
  noGrad(() => {
    const source = fromValues(values, t.shape, { dtype: t.dtype, backend: t.backend.name });
    t.assign(source);
    source.dispose();
  });
  return t;
}

/**
 * fan_in and fan_out of a weight: for [out, in, ...kernel], fanIn = in * kernel and
 * fanOut = out * kernel.
 */
export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.rank < 2)
    throw new TensorError(
      'invalid_argument',
      `fans: need a tensor of rank >= 2, got rank ${t.rank}`,
    );
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: t.shape[1] * receptive, fanOut: t.shape[0] * receptive };
}

/** Fills with U(low, high) in place. */
export function uniform(t: Tensor, low = 0, high = 1, options: InitOptions = {}): Tensor {
  const g = options.generator ?? defaultGenerator;
  return fill(t, () => low + (high - low) * g.nextFloat());
}

/** Fills with N(mean, std^2) in place. */
export function normal(t: Tensor, mean = 0, std = 1, options: InitOptions = {}): Tensor {
  const g = options.generator ?? defaultGenerator;
  return fill(t, () => mean + std * g.nextNormal());
}

/** Fills with N(mean, std^2) redrawn until within [mean - 2 std, mean + 2 std] (GPT-style init). */
export function truncatedNormal(t: Tensor, mean = 0, std = 1, options: InitOptions = {}): Tensor {
  const g = options.generator ?? defaultGenerator;
  return fill(t, () => {
    for (;;) {
      const z = g.nextNormal();
      if (Math.abs(z) <= 2) return mean + std * z;
    }
  });
}

/** Fills with `value` in place. */
export function constant(t: Tensor, value: number): Tensor {
  return fill(t, () => value);
}

/** Fills with zeros in place. */
export function zeros(t: Tensor): Tensor {
  return constant(t, 0);
}

/** Fills with ones in place. */
export function ones(t: Tensor): Tensor {
  return constant(t, 1);
}

/** Glorot and Bengio (2010): U(-a, a) with a = gain * sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform(t: Tensor, gain = 1, options: InitOptions = {}): Tensor {
  const { fanIn, fanOut } = fans(t);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(t, -a, a, options);
}

/** Glorot and Bengio (2010): N(0, std^2) with std = gain * sqrt(2 / (fanIn + fanOut)). */
export function xavierNormal(t: Tensor, gain = 1, options: InitOptions = {}): Tensor {
  const { fanIn, fanOut } = fans(t);
  return normal(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), options);
}

/** He et al. (2015) for ReLU nets: U(-b, b) with b = sqrt(6 / fanIn) (gain sqrt 2, fan_in mode). */
export function kaimingUniform(t: Tensor, options: InitOptions & { gain?: number } = {}): Tensor {
  const gain = options.gain ?? Math.SQRT2;
  const bound = gain * Math.sqrt(3 / fans(t).fanIn);
  return uniform(t, -bound, bound, options);
}

/** He et al. (2015): N(0, gain^2 / fanIn) (gain sqrt 2 by default). */
export function kaimingNormal(t: Tensor, options: InitOptions & { gain?: number } = {}): Tensor {
  const gain = options.gain ?? Math.SQRT2;
  return normal(t, 0, gain / Math.sqrt(fans(t).fanIn), options);
}
