// Runs conformance cases on a backend and on the js reference, and compares the results.
import { createJsBackend } from '../backend/js/index.js';
import { type Backend, FUSED_KERNELS, type KernelTensor } from '../backend/types.js';
import { type DType, fromBfloat16Bits, fromFloat16Bits, type TypedArray } from '../dtype.js';
import type { ConformanceCase, TensorSpec } from './cases.js';
import { fusedCases } from './fused-cases.js';
import { requiredCases } from './required-cases.js';

/** Options of {@link conformanceCases}. */
export interface ConformanceOptions {
  /** Float dtypes to test (default: float32, plus float64 when the backend computes in it). */
  floatDTypes?: DType[];
  /** Seed of the random inputs (default 1). */
  seed?: number;
}

/**
 * Every conformance case applicable to `backend`: all required kernels, and the fused kernels
 * the backend reports with `supports`.
 */
export function conformanceCases(
  backend: Backend,
  options: ConformanceOptions = {},
): ConformanceCase[] {
  const floats =
    options.floatDTypes ??
    (['float32', 'float64'] as DType[]).filter((d) => backend.computeDTypes.includes(d));
  const seed = options.seed ?? 1;
  const fused = fusedCases(floats, seed + 1).filter(
    (c) => backend.supports(c.kernel) && (c.requires ?? []).every((k) => backend.supports(k)),
  );
  return [...requiredCases(floats, seed), ...fused];
}

function upload(backend: Backend, spec: TensorSpec): KernelTensor {
  const buffer = backend.allocate(spec.dtype, spec.data.length);
  backend.write(buffer, spec.data.slice());
  return {
    buffer,
    dtype: spec.dtype,
    shape: spec.shape,
    strides: spec.strides,
    offset: spec.offset,
  };
}

async function execute(backend: Backend, c: ConformanceCase): Promise<TypedArray[]> {
  const inputs = c.inputs.map((s) => upload(backend, s));
  const outputs = c.outputs.map((s) => upload(backend, s));
  try {
    backend.run(c.kernel, inputs, outputs, c.attributes);
    const results = [];
    for (const t of outputs) results.push(await backend.read(t.buffer));
    for (const i of c.inPlaceInputs ?? []) results.push(await backend.read(inputs[i].buffer));
    return results;
  } finally {
    for (const t of [...inputs, ...outputs]) backend.free(t.buffer);
  }
}

function numbers(dtype: DType, data: TypedArray): number[] {
  if (dtype === 'float16') return Array.from(data as Uint16Array, fromFloat16Bits);
  if (dtype === 'bfloat16') return Array.from(data as Uint16Array, fromBfloat16Bits);
  return Array.from(data as Float64Array, Number);
}

/**
 * Runs one case on `backend` and on `reference` (default: a fresh js backend) and returns null
 * when every output matches (floats within the case's tolerance, NaN matching NaN; other dtypes
 * exactly), else a message naming the first mismatch.
 */
export async function checkConformanceCase(
  backend: Backend,
  c: ConformanceCase,
  reference: Backend = createJsBackend(),
): Promise<string | null> {
  const expected = await execute(reference, c);
  let actual: TypedArray[];
  try {
    actual = await execute(backend, c);
  } catch (error) {
    return `${c.name}: the kernel threw ${(error as Error).message}`;
  }
  const dtypes = [
    ...c.outputs.map((s) => s.dtype),
    ...(c.inPlaceInputs ?? []).map((i) => c.inputs[i].dtype),
  ];
  for (let o = 0; o < expected.length; o++) {
    const want = numbers(dtypes[o], expected[o]);
    const got = numbers(dtypes[o], actual[o]);
    if (want.length !== got.length)
      return `${c.name}: output ${o} has ${got.length} elements, expected ${want.length}`;
    const isFloat = dtypes[o] === 'float32' || dtypes[o] === 'float64';
    for (let i = 0; i < want.length; i++) {
      const [w, g] = [want[i], got[i]];
      if (Number.isNaN(w) && Number.isNaN(g)) continue;
      const ok = isFloat
        ? w === g || Math.abs(w - g) <= c.absoluteTolerance + c.relativeTolerance * Math.abs(w)
        : w === g;
      if (!ok) return `${c.name}: output ${o} element ${i} is ${g}, the js reference gives ${w}`;
    }
  }
  return null;
}

/** The subset of a test framework the suite needs (vitest, jest and mocha all fit). */
export interface TestFramework {
  /** Groups tests. */
  describe(name: string, body: () => void): void;
  /** Declares one test; it fails when the callback throws or rejects. */
  it(name: string, body: () => Promise<void>): void;
}

/**
 * Registers one test per conformance case with your test framework.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { describeConformance } from '@llmkit/core-tensor/testing';
 * describeConformance(createCpuBackend(), { describe, it });
 * ```
 */
export function describeConformance(
  backend: Backend,
  framework: TestFramework,
  options: ConformanceOptions = {},
): void {
  framework.describe(`conformance of backend '${backend.name}'`, () => {
    const reference = createJsBackend();
    for (const c of conformanceCases(backend, options)) {
      framework.it(c.name, async () => {
        const failure = await checkConformanceCase(backend, c, reference);
        if (failure) throw new Error(failure);
      });
    }
  });
}

/** Fused kernels the backend does not implement (core composes them from primitives). */
export function missingFusedKernels(backend: Backend): string[] {
  return FUSED_KERNELS.filter((k) => !backend.supports(k));
}
