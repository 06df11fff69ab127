// Gradient checking against central finite differences in float64.
import { noGrad } from '../autograd/grad-mode.js';
import { tidy } from '../engine.js';
import { TensorError } from '../errors.js';
import { fromValues } from '../ops/creation.js';
import { mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';

/** Options of {@link gradcheck}. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  epsilon?: number;
  /** Absolute tolerance (default 1e-6). */
  absoluteTolerance?: number;
  /** Relative tolerance (default 1e-4). */
  relativeTolerance?: number;
  /** Indices of the inputs to check (default every float input). */
  check?: readonly number[];
}

/** What {@link gradcheck} found. */
export interface GradcheckResult {
  /** True when every checked gradient element is within tolerance. */
  ok: boolean;
  /** Largest |analytic - numeric| over all checked elements. */
  maxError: number;
  /** The first mismatch, for error messages. */
  firstMismatch?: { input: number; index: number; analytic: number; numeric: number };
}

function readNumbers(t: Tensor): Float64Array {
  return Float64Array.from(t.dataSync() as Float64Array, Number);
}

/**
 * Compares the gradients autograd computes for `fn` with central finite differences, in float64.
 * Float inputs are copied to float64 (so the backend must compute in float64, as `js` does);
 * other inputs (int32 ids, bool masks) pass through. A non-scalar output is reduced with fixed
 * random weights, so the whole Jacobian is exercised.
 *
 * @example
 * ```ts
 * const result = gradcheck((x) => x.tanh().sum(), [randn([3, 4])]);
 * console.log(result.ok); // true
 * ```
 */
export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): GradcheckResult {
  const epsilon = options.epsilon ?? 1e-6;
  const atol = options.absoluteTolerance ?? 1e-6;
  const rtol = options.relativeTolerance ?? 1e-4;
  const isFloat = inputs.map((t) => t.dtype === 'float32' || t.dtype === 'float64');
  const checked = options.check ?? inputs.map((_, i) => i).filter((i) => isFloat[i]);
  const values = inputs.map((t, i) => (isFloat[i] ? readNumbers(t) : null));
  const backend = inputs[0].backend.name;
  const make = (i: number, data: Float64Array | null, requiresGrad: boolean): Tensor =>
    data
      ? fromValues(data, inputs[i].shape, { dtype: 'float64', backend, requiresGrad })
      : inputs[i];

  let weights: Float64Array | null = null;
  const objective = (args: Tensor[]): Tensor => {
    const out = fn(...args);
    if (out.dtype !== 'float64')
      throw new TensorError(
        'dtype_mismatch',
        `gradcheck: fn must return float64 for float64 inputs, got ${out.dtype}`,
      );
    if (!weights) {
      const generator = new Generator(1234);
      weights = Float64Array.from({ length: out.size }, () => generator.nextFloat() + 0.5);
    }
    const w = fromValues(weights, out.shape, { dtype: 'float64', backend });
    return sum(mul(out, w));
  };

  const leaves = inputs.map((_, i) => make(i, values[i], checked.includes(i)));
  const analytic = tidy(() => {
    const loss = objective(leaves);
    loss.backward();
    return leaves.map((t, i) =>
      checked.includes(i) ? (t.grad ? readNumbers(t.grad) : new Float64Array(t.size)) : null,
    );
  });
  for (const [i, t] of leaves.entries()) {
    if (values[i]) {
      t.grad?.dispose();
      t.dispose();
    }
  }

  const evaluate = (input: number, index: number, delta: number): number =>
    noGrad(() =>
      tidy(() => {
        const data = values[input]!.slice();
        data[index] += delta;
        const args = inputs.map((_, i) =>
          i === input ? make(i, data, false) : make(i, values[i], false),
        );
        return objective(args).item();
      }),
    );

  let maxError = 0;
  let firstMismatch: GradcheckResult['firstMismatch'];
  for (const i of checked) {
    const data = values[i]!;
    for (let k = 0; k < data.length; k++) {
      const numeric = (evaluate(i, k, epsilon) - evaluate(i, k, -epsilon)) / (2 * epsilon);
      const a = analytic[i]![k];
      const error = Math.abs(a - numeric);
      maxError = Math.max(maxError, error);
      if (!(error <= atol + rtol * Math.abs(numeric)) && !firstMismatch) {
        firstMismatch = { input: i, index: k, analytic: a, numeric };
      }
    }
  }
  return { ok: !firstMismatch, maxError, firstMismatch };
}
