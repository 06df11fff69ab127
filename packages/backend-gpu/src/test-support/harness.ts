// Test support: opens the webgpu backend once per test file (or reports why it cannot) and runs
// a kernel on webgpu and on the js reference backend with the same views.
import type { DType, TypedArray } from '@llmkit/core-tensor';
import {
  type Backend,
  createJsBackend,
  type KernelAttributes,
  type KernelTensor,
  makeTypedArray,
} from '@llmkit/core-tensor/backend';
import { afterAll } from 'vitest';
import { createWebGpuBackend, type WebGpuBackend } from '../backend.js';

let opened: Promise<WebGpuBackend | string> | undefined;

/** The shared test backend, or the one-line reason there is none (tests then skip). */
export function testBackend(): Promise<WebGpuBackend | string> {
  if (!opened) {
    // Dawn can crash at process exit while a device is alive: destroy it after the file's tests.
    afterAll(async () => {
      const backend = await opened;
      if (backend && typeof backend !== 'string') backend.destroy();
    });
  }
  opened ??= createWebGpuBackend().catch((error: Error) => {
    const reason = `webgpu tests skipped: ${error.message} (install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri for Dawn over Mesa)`;
    console.warn(reason);
    return reason;
  });
  return opened;
}

/** An input view: flat buffer data plus an optional view (shape/strides/offset). */
export interface ViewSpec {
  dtype: DType;
  data: TypedArray;
  shape: readonly number[];
  strides?: readonly number[];
  offset?: number;
}

/** Output spec: dtype and shape (contiguous unless a view is given), optionally initial contents. */
export interface OutputSpec {
  dtype: DType;
  shape: readonly number[];
  initial?: TypedArray;
  /** Elements of the buffer when the output is a view into a bigger one. */
  bufferSize?: number;
  strides?: readonly number[];
  offset?: number;
}

function contiguous(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/** Runs kernel `name` on `backend` and returns the outputs (and the inputs, for in-place kernels). */
export async function runKernel(
  backend: Backend,
  name: string,
  inputs: readonly ViewSpec[],
  outputs: readonly OutputSpec[],
  attributes: KernelAttributes = {},
): Promise<{ outputs: TypedArray[]; inputs: TypedArray[] }> {
  const views = (specs: readonly (ViewSpec | OutputSpec)[]): KernelTensor[] =>
    specs.map((spec) => {
      const size =
        'data' in spec
          ? spec.data.length
          : (spec.bufferSize ?? spec.shape.reduce((a, b) => a * b, 1));
      const buffer = backend.allocate(spec.dtype, size);
      const data = 'data' in spec ? spec.data : (spec.initial ?? makeTypedArray(spec.dtype, size));
      backend.write(buffer, data);
      return {
        buffer,
        dtype: spec.dtype,
        shape: spec.shape,
        strides: spec.strides ?? contiguous(spec.shape),
        offset: spec.offset ?? 0,
      };
    });
  const inputViews = views(inputs);
  const outputViews = views(outputs);
  try {
    backend.run(name, inputViews, outputViews, attributes);
    return {
      outputs: await Promise.all(outputViews.map((v) => backend.read(v.buffer))),
      inputs: await Promise.all(inputViews.map((v) => backend.read(v.buffer))),
    };
  } finally {
    for (const v of [...inputViews, ...outputViews]) backend.free(v.buffer);
  }
}

const reference = createJsBackend();

/** Runs the kernel on webgpu and js; returns both results. */
export async function runBoth(
  gpu: Backend,
  name: string,
  inputs: readonly ViewSpec[],
  outputs: readonly OutputSpec[],
  attributes: KernelAttributes = {},
): Promise<{
  gpu: TypedArray[];
  js: TypedArray[];
  gpuInputs: TypedArray[];
  jsInputs: TypedArray[];
}> {
  const a = await runKernel(gpu, name, inputs, outputs, attributes);
  const b = await runKernel(reference, name, inputs, outputs, attributes);
  return { gpu: a.outputs, js: b.outputs, gpuInputs: a.inputs, jsInputs: b.inputs };
}

/** Largest |a - b| / (atol + rtol |b|) over the elements (NaN matches NaN); <= 1 passes. */
export function mismatch(a: TypedArray, b: TypedArray, atol = 1e-5, rtol = 1e-5): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Number(a[i]);
    const y = Number(b[i]);
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    const e = Math.abs(x - y) / (atol + rtol * Math.abs(y));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Number.POSITIVE_INFINITY : e;
  }
  return worst;
}

/** A seeded stream of uniform numbers in [0, 1) (mulberry32). */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` float32 values in [-scale, scale). */
export function floats(n: number, seed: number, scale = 2): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length: n }, () => (next() * 2 - 1) * scale);
}
