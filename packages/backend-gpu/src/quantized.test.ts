// The quantized GPT-2 fixture on webgpu: gpt2-tiny (fixtures/ at the repository root) quantized by
// @llmkit/quantize (every Linear and the tied head in int8, int4 g32, nf4 with and without
// double quantization, q8_0 and q4_0; and q4_0 with packed embeddings, whose lookups gather
// packed rows) on the js reference backend, saved, loaded onto webgpu, and run there through
// the quantizedMatmul kernel. Its logits must match the js backend's quantized forward within
// 1e-4 (the tolerance core-tensor's conformance suite gives quantizedMatmul, which the cpu
// backend meets against js too), and KV-cached greedy decoding (the matrix-vector path, M = 1)
// must give the same ids. q8_0 and q4_0 run with float activations there, and again with their
// default 8-bit activations (each block of 32 inputs rounded to int8, as llama.cpp does): the
// two backends' inputs differ by float rounding, so now and then a value on a rounding edge
// takes the other code, and those runs get a looser bound (the kernel itself is checked exactly
// by the conformance suite, on the same inputs).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSafetensors, noGrad, setBackend } from '@llmkit/core-tensor';
import { type KernelAttributes, registerBackend } from '@llmkit/core-tensor/backend';
import {
  dequantizeModel,
  loadQuantized,
  type QuantizeModelOptions,
  quantizedLayers,
  quantizeModel,
  saveQuantized,
} from '@llmkit/quantize';
import { type GPT, loadPretrained } from '@llmkit/transformer';
import { afterAll, describe, expect, it } from 'vitest';
import { runKernel, testBackend, type ViewSpec } from './test-support/harness.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/gpt2-tiny');
const present = existsSync(join(fixture, 'model.safetensors'));
if (!present) console.warn(`quantized gpt2 test skipped: ${fixture} is absent`);
const backend = await testBackend();
const gpu = typeof backend === 'string' ? undefined : backend;

// Every Linear and the tied head quantized (9 products a forward: c_attn, attn.c_proj, c_fc and
// mlp.c_proj per layer, and the head), or with `embeddings` the packed wte serving lookup and
// head and a packed wpe (8 Linears, 2 lookups decoded by the kernel, the head: 11 products).
const FORMATS: QuantizeModelOptions[] = [
  { format: 'int8', lmHead: true },
  { format: 'int4', groupSize: 32, lmHead: true },
  { format: 'nf4', lmHead: true },
  { format: 'nf4', doubleQuantization: true, lmHead: true },
  { format: 'q8_0', lmHead: true, activations: 'float32' },
  { format: 'q4_0', lmHead: true, activations: 'float32' },
  { format: 'q4_0', embeddings: true, activations: 'float32' },
  { format: 'q8_0', lmHead: true },
  { format: 'q4_0', lmHead: true },
];
const TOLERANCE = 1e-4;
/** With 8-bit activations: a code flipped on a rounding edge moves logits by about 1e-3. */
const INT8_TOLERANCE = 2e-2;
const NEW_TOKENS = 8;

const folder = mkdtempSync(join(tmpdir(), 'llmkit-gpu-quantized-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe.skipIf(!gpu)('webgpu quantizedMatmul', () => {
  it('is a kernel of the webgpu backend', () => {
    expect(gpu!.supports('quantizedMatmul')).toBe(true);
  });

  it('rejects a format, group size or part that does not fit, naming it', async () => {
    // x [2, 64] @ W^T with W [3, 64] in int4 group 32: packed uint8 [3, 32], scales [3, 2].
    const x = { dtype: 'float32', data: new Float32Array(128), shape: [2, 64] } as const;
    const packed = { dtype: 'uint8', data: new Uint8Array(96), shape: [3, 32] } as const;
    const scales = { dtype: 'float32', data: new Float32Array(6), shape: [3, 2] } as const;
    const out = [{ dtype: 'float32', shape: [2, 3] }] as const;
    const int4 = { format: 'int4', groupSize: 32, symmetric: true, transposed: false };
    const call = (inputs: ViewSpec[], attributes: KernelAttributes) =>
      runKernel(gpu!, 'quantizedMatmul', inputs, out, attributes);
    expect((await call([x, packed, scales], int4)).outputs[0]).toEqual(new Float32Array(6));
    await expect(call([x, packed, scales], { ...int4, format: 'q5_0' })).rejects.toThrow(
      /unknown format 'q5_0', expected one of fp16, bf16, int8, int4, nf4, q8_0, q4_0/,
    );
    await expect(call([x, packed, scales], { ...int4, groupSize: 48 })).rejects.toThrow(
      /int4 W \[3,64\]: groupSize 48 must be positive and divide K 64/,
    );
    await expect(call([x, packed], int4)).rejects.toThrow(/takes 2 packed parts .* got 1/);
    await expect(call([x, { ...scales, shape: [3, 2] }, scales], int4)).rejects.toThrow(
      /part 0 is float32 \[3,2\], expected uint8 of 96 elements/,
    );
    await expect(
      call([x, packed, scales], { ...int4, symmetric: false }), // asymmetric needs minimums
    ).rejects.toThrow(/takes 3 packed parts/);
  });
});

describe.skipIf(!gpu || !present)('quantized GPT-2 fixture on webgpu', () => {
  for (const options of FORMATS) {
    const int8 = options.activations === undefined && options.format.startsWith('q');
    const name = `${options.format}${options.groupSize ? ` g${options.groupSize}` : ''}${options.doubleQuantization ? ' double' : ''}${options.embeddings ? ' embeddings' : ''}${int8 ? ' activations int8' : ''}`;
    const products = options.embeddings ? 11 : 9;
    it(`${name}: logits match the js backend's quantized forward, greedy ids are equal`, async () => {
      const reference = await loadSafetensors(join(fixture, 'reference.safetensors'));
      const flat = Array.from(await reference.input_ids.to('int32').data<Int32Array>());
      const [B, T] = reference.input_ids.shape;
      const rows = Array.from({ length: B }, (_, b) => flat.slice(b * T, (b + 1) * T));
      const dir = join(folder, name.replaceAll(' ', '-'));

      await setBackend('js');
      const cpuModel = await loadPretrained(fixture);
      quantizeModel(cpuModel, options);
      const layers = quantizedLayers(cpuModel).length;
      const expected = await noGrad(() => cpuModel.forward(rows)).logits.data<Float32Array>();
      const [expectedIds] = await cpuModel.generate([rows[0]], { maxNewTokens: NEW_TOKENS });
      await saveQuantized(cpuModel, dir);

      registerBackend('webgpu', () => gpu!, 30);
      await setBackend('webgpu');
      const calls = countKernel('quantizedMatmul');
      try {
        const model = (await loadQuantized(dir, { backend: 'webgpu' })) as GPT;
        expect(quantizedLayers(model).length).toBe(layers);
        const { logits } = noGrad(() => model.forward(rows));
        expect(logits.backend.name).toBe('webgpu');
        // Every quantized product ran the kernel (no host decoding into a float weight).
        expect(calls.count).toBe(products);
        const actual = await logits.data<Float32Array>();
        expect(actual.length).toBe(expected.length);
        let worst = 0;
        let scale = 0;
        for (let i = 0; i < expected.length; i++) {
          worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
          scale = Math.max(scale, Math.abs(expected[i]));
        }
        console.log(
          `gpt2-tiny ${name} on webgpu: largest |logit - js quantized| = ${worst.toExponential(2)} (largest |logit| ${scale.toFixed(2)})`,
        );
        expect(worst).toBeLessThan(int8 ? INT8_TOLERANCE : TOLERANCE);
        const [ids] = await model.generate([rows[0]], { maxNewTokens: NEW_TOKENS });
        expect(ids).toEqual(expectedIds);
        // dequantizing works on a device that reads back only asynchronously (the packed
        // bytes are kept on the host there), and the float model computes the same logits
        calls.restore();
        dequantizeModel(model);
        expect(quantizedLayers(model)).toHaveLength(0);
        const floats = await noGrad(() => model.forward(rows)).logits.data<Float32Array>();
        let apart = 0;
        for (let i = 0; i < floats.length; i++)
          apart = Math.max(apart, Math.abs(floats[i] - actual[i]));
        // (8-bit activations are not the float model's product)
        if (!int8) expect(apart).toBeLessThan(TOLERANCE);
      } finally {
        calls.restore();
        await setBackend('js');
      }
    });
  }
});

/** Counts the webgpu backend's launches of kernel `name` until `restore`. */
function countKernel(name: string): { count: number; restore: () => void } {
  const target = gpu!;
  const run = target.run;
  const counter = {
    count: 0,
    restore: () => {
      target.run = run;
    },
  };
  target.run = (kernel, inputs, outputs, attributes) => {
    if (kernel === name) counter.count++;
    run(kernel, inputs, outputs, attributes);
  };
  return counter;
}
