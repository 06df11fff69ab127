import { describe, expect, it } from 'vitest';
import { floats, mismatch, random, runBoth, testBackend } from './test-support/harness.js';

const backend = await testBackend();
const gpu = typeof backend === 'string' ? undefined : backend;

describe.skipIf(!gpu)('fused kernels against js', () => {
  it('softmax and log-softmax, rows shorter and longer than a workgroup', async () => {
    for (const [R, N] of [
      [3, 5],
      [2, 700],
    ]) {
      const x = floats(R * N, R + N, 30);
      for (const log of [false, true]) {
        const r = await runBoth(
          gpu!,
          'softmax',
          [{ dtype: 'float32', data: x, shape: [R, N] }],
          [{ dtype: 'float32', shape: [R, N] }],
          { log },
        );
        expect(mismatch(r.gpu[0], r.js[0], 1e-6, 1e-5), `${R}x${N} ${log}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('layerNorm forward and backward with and without weight/bias', async () => {
    const [R, C] = [5, 300];
    const x = floats(R * C, 1, 3);
    const w = floats(C, 2);
    const b = floats(C, 3);
    const dy = floats(R * C, 4);
    for (const [hasWeight, hasBias] of [
      [true, true],
      [false, false],
      [true, false],
    ]) {
      const inputs = [
        { dtype: 'float32' as const, data: x, shape: [R, C] },
        ...(hasWeight ? [{ dtype: 'float32' as const, data: w, shape: [C] }] : []),
        ...(hasBias ? [{ dtype: 'float32' as const, data: b, shape: [C] }] : []),
      ];
      const fwd = await runBoth(
        gpu!,
        'layerNorm',
        inputs,
        [
          { dtype: 'float32', shape: [R, C] },
          { dtype: 'float32', shape: [R] },
          { dtype: 'float32', shape: [R] },
        ],
        { epsilon: 1e-5, hasWeight, hasBias },
      );
      for (let i = 0; i < 3; i++) {
        if (mismatch(fwd.gpu[i], fwd.js[i], 1e-5, 1e-4) > 1)
          console.log(i, fwd.gpu[i].slice(0, 5), fwd.js[i].slice(0, 5));
        expect(mismatch(fwd.gpu[i], fwd.js[i], 1e-5, 1e-4), `forward ${i}`).toBeLessThanOrEqual(1);
      }
      const bwd = await runBoth(
        gpu!,
        'layerNormBackward',
        [
          { dtype: 'float32', data: dy, shape: [R, C] },
          { dtype: 'float32', data: x, shape: [R, C] },
          { dtype: 'float32', data: fwd.js[1], shape: [R] },
          { dtype: 'float32', data: fwd.js[2], shape: [R] },
          ...(hasWeight ? [{ dtype: 'float32' as const, data: w, shape: [C] }] : []),
        ],
        [
          { dtype: 'float32', shape: [R, C] },
          ...(hasWeight ? [{ dtype: 'float32' as const, shape: [C] }] : []),
          ...(hasBias ? [{ dtype: 'float32' as const, shape: [C] }] : []),
        ],
        { hasWeight, hasBias },
      );
      for (let i = 0; i < bwd.js.length; i++)
        expect(mismatch(bwd.gpu[i], bwd.js[i], 1e-5, 1e-4), `backward ${i}`).toBeLessThanOrEqual(1);
    }
  });

  it('crossEntropy forward and backward with ignoreIndex and label smoothing', async () => {
    const [R, V] = [6, 300];
    const logits = floats(R * V, 5, 5);
    const targets = new Int32Array([0, 299, -100, 17, 150, 3]);
    const gradLoss = floats(R, 6);
    for (const labelSmoothing of [0, 0.1]) {
      const attrs = { ignoreIndex: -100, labelSmoothing };
      const fwd = await runBoth(
        gpu!,
        'crossEntropy',
        [
          { dtype: 'float32', data: logits, shape: [R, V] },
          { dtype: 'int32', data: targets, shape: [R] },
        ],
        [{ dtype: 'float32', shape: [R] }],
        attrs,
      );
      expect(mismatch(fwd.gpu[0], fwd.js[0], 1e-5, 1e-5)).toBeLessThanOrEqual(1);
      const bwd = await runBoth(
        gpu!,
        'crossEntropyBackward',
        [
          { dtype: 'float32', data: logits, shape: [R, V] },
          { dtype: 'int32', data: targets, shape: [R] },
          { dtype: 'float32', data: gradLoss, shape: [R] },
        ],
        [{ dtype: 'float32', shape: [R, V] }],
        attrs,
      );
      expect(mismatch(bwd.gpu[0], bwd.js[0], 1e-6, 1e-5)).toBeLessThanOrEqual(1);
    }
  });

  it('attention: causal, masked, longer keys than queries, chunks past 64 keys', async () => {
    for (const { B, H, T, S, D, Dv, causal, hasMask } of [
      { B: 1, H: 2, T: 5, S: 5, D: 8, Dv: 8, causal: true, hasMask: false },
      { B: 2, H: 1, T: 3, S: 70, D: 4, Dv: 6, causal: true, hasMask: false },
      { B: 1, H: 2, T: 4, S: 9, D: 16, Dv: 80, causal: false, hasMask: true },
    ]) {
      const next = random(T * S);
      const mask = Uint8Array.from({ length: B * H * T * S }, (_, i) =>
        i % S === 0 || next() > 0.3 ? 1 : 0,
      );
      const r = await runBoth(
        gpu!,
        'attention',
        [
          { dtype: 'float32', data: floats(B * H * T * D, 1), shape: [B, H, T, D] },
          { dtype: 'float32', data: floats(B * H * S * D, 2), shape: [B, H, S, D] },
          { dtype: 'float32', data: floats(B * H * S * Dv, 3), shape: [B, H, S, Dv] },
          ...(hasMask ? [{ dtype: 'bool' as const, data: mask, shape: [B, H, T, S] }] : []),
        ],
        [{ dtype: 'float32', shape: [B, H, T, Dv] }],
        { causal, scale: 1 / Math.sqrt(D), hasMask },
      );
      expect(
        mismatch(r.gpu[0], r.js[0], 1e-5, 1e-4),
        `${T}x${S} causal ${causal} mask ${hasMask}`,
      ).toBeLessThanOrEqual(1);
    }
  });

  it('embeddingBackward accumulates repeated ids', async () => {
    const ids = new Int32Array([3, 0, 3, 9, 3]);
    const r = await runBoth(
      gpu!,
      'embeddingBackward',
      [
        { dtype: 'int32', data: ids, shape: [5] },
        { dtype: 'float32', data: floats(5 * 7, 8), shape: [5, 7] },
      ],
      [{ dtype: 'float32', shape: [10, 7], initial: floats(70, 9) }],
    );
    expect(mismatch(r.gpu[0], r.js[0], 1e-6, 1e-6)).toBeLessThanOrEqual(1);
  });

  it('adamw updates param, m and v in place', async () => {
    const n = 1000;
    const attrs = { lr: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1, step: 3 };
    const r = await runBoth(
      gpu!,
      'adamw',
      [
        { dtype: 'float32', data: floats(n, 1), shape: [n] },
        { dtype: 'float32', data: floats(n, 2), shape: [n] },
        { dtype: 'float32', data: floats(n, 3, 0.1), shape: [n] },
        { dtype: 'float32', data: floats(n, 4, 0.01).map(Math.abs), shape: [n] },
      ],
      [],
      attrs,
    );
    for (const i of [0, 2, 3])
      expect(mismatch(r.gpuInputs[i], r.jsInputs[i], 1e-6, 1e-5), `input ${i}`).toBeLessThanOrEqual(
        1,
      );
  });
});
