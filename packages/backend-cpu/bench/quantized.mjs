// Packed q8_0 / q4_0 weights with 8-bit activations: `quantizedMatmul` with `activations: 'int8'`
// (llama.cpp's arithmetic; src/kernels/quantized-activations.cc, quantized-tiles.cc) beside the
// same backend's float32 gemm (x @ W^T) and bf16 weights, on the Linear shapes of real models
// (shapes.json `quantizedWeights`), M = 1 (decoding), 32 and 512 (prefill), at 1 and 2 threads.
// Then the Linear layers of one Qwen3-0.6B prefill of 32 tokens (28 layers of q, k, v, o, gate,
// up, down; no attention, norms or LM head), the figure llama.cpp's prefill is compared with.
// The four variants run interleaved, each repeat calling all of them, so they see the same load.
// Weight bytes are random (block scales small finite fp16s): the time does not depend on values.

import { interleavedBest } from './half.mjs';

const FORMAT = { bf16: 1, q8_0: 5, q4_0: 6 };

/** Bytes from a fixed xorshift. */
function randomBytes(count, seed) {
  const bytes = new Uint8Array(count);
  let s = seed;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    bytes[i] = s & 255;
  }
  return bytes;
}

/** W [n, k] as float32, bf16 bits, q8_0 blocks (34 bytes per 32) and q4_0 blocks (18 bytes). */
function weights(n, k) {
  const f32 = new Float32Array(n * k).map((_, i) => ((i * 2654435761) % 1000) / 1e4 - 0.05);
  const bf16 = new Uint8Array(
    new Uint16Array(new Uint32Array(f32.buffer).map((w) => w >>> 16)).buffer,
  );
  const blocks = (n * k) / 32;
  const packed = (blockBytes, seed) => {
    const bytes = randomBytes(blocks * blockBytes, seed);
    for (let b = 0; b < blocks; b++) {
      bytes[b * blockBytes] = 0x00; // d = fp16 0x2000 (2^-7)
      bytes[b * blockBytes + 1] = 0x20;
    }
    return bytes;
  };
  return { f32, bf16, q8_0: packed(34, 0x9e3779b9), q4_0: packed(18, 0x85ebca6b) };
}

/** Seconds of f32, bf16, q8_0 and q4_0 (both 8-bit activations) for out [m, n] = x @ W^T. */
function timeProduct(native, w, { m, n, k }, repeats, budget) {
  const x = Float32Array.from({ length: m * k }, () => Math.random() - 0.5);
  const out = new Float32Array(m * n);
  const f32 = () =>
    native.gemm(false, true, m, n, k, 1, x, 0, k, 0, w.f32, 0, k, 0, 0, out, 0, n, 0, 1);
  const packed = (format, int8) => () =>
    native.quantizedMatmul(
      FORMAT[format],
      m,
      n,
      k,
      32,
      true,
      false,
      x,
      w[format],
      null,
      null,
      out,
      int8,
    );
  const runs = [f32, packed('bf16', false), packed('q8_0', true), packed('q4_0', true)];
  const [tf32, tbf16, tq8, tq4] = interleavedBest(runs, repeats, budget);
  return { f32: tf32, bf16: tbf16, q8_0: tq8, q4_0: tq4 };
}

/** The whole comparison; prints two tables and returns the rows for the JSON line. */
export function benchQuantizedWeights({ native, spec, setThreads, quick }) {
  const repeats = quick ? 3 : 10;
  const budget = quick ? 1 : 3;
  const pad = (value, width) => String(value).padStart(width);
  const rows = [];
  console.log('q8_0 / q4_0 weights, 8-bit activations: ms per product (GFLOP/s)');
  console.log(
    `| ${'Linear (M x N x K)'.padEnd(44)} | thr | f32 | bf16 | q8_0 int8 | q4_0 int8 | f32 / q8_0 | f32 / q4_0 |`,
  );
  console.log(
    `| ${'-'.repeat(44)} | --- | --- | ---- | --------- | --------- | ---------- | ---------- |`,
  );
  for (const shape of spec.shapes) {
    const w = weights(shape.n, shape.k);
    for (const m of spec.rows) {
      for (const threads of spec.threads) {
        setThreads(threads);
        const seconds = timeProduct(native, w, { ...shape, m }, repeats, budget);
        rows.push({ label: shape.name, m, n: shape.n, k: shape.k, threads, seconds });
        const flops = 2 * m * shape.n * shape.k;
        const cell = (s) => `${(s * 1e3).toFixed(3)} (${(flops / s / 1e9).toFixed(0)})`;
        console.log(
          `| ${`${shape.name} (${m} x ${shape.n} x ${shape.k})`.padEnd(44)} | ${pad(threads, 3)} | ${cell(seconds.f32)} | ${cell(seconds.bf16)} | ${cell(seconds.q8_0)} | ${cell(seconds.q4_0)} | ${pad((seconds.f32 / seconds.q8_0).toFixed(2), 10)} | ${pad((seconds.f32 / seconds.q4_0).toFixed(2), 10)} |`,
        );
      }
    }
  }
  const model = spec.model;
  console.log(
    `\n${model.name}: the Linear layers of a ${model.rows}-token prefill (${model.layers} layers), ms`,
  );
  console.log('| thr | f32 | bf16 | q8_0 int8 | q4_0 int8 |');
  console.log('| --- | --- | ---- | --------- | --------- |');
  const totals = [];
  for (const threads of spec.threads) {
    setThreads(threads);
    const sum = { f32: 0, bf16: 0, q8_0: 0, q4_0: 0 };
    for (const { n, k, count } of model.linears) {
      const seconds = timeProduct(native, weights(n, k), { m: model.rows, n, k }, repeats, budget);
      for (const key of Object.keys(sum)) sum[key] += seconds[key] * count * model.layers;
    }
    totals.push({ threads, seconds: sum });
    const ms = (s) => (s * 1e3).toFixed(1);
    console.log(
      `| ${pad(threads, 3)} | ${ms(sum.f32)} | ${ms(sum.bf16)} | ${ms(sum.q8_0)} | ${ms(sum.q4_0)} |`,
    );
  }
  console.log('');
  return { rows, model: totals };
}
