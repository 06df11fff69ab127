import { Generator } from '@llmkit/core-tensor';
import { fromFloat16Bits } from '@llmkit/core-tensor/backend';
import { describe, expect, it } from 'vitest';
import { QuantizeError } from '../errors.js';
import { dequantizeWeight, quantizeWeight } from './index.js';
import { unpackNibbles } from './int4.js';
import { NF4_CODE } from './nf4.js';
import type { QuantizeOptions } from './types.js';

/** Normal weights with a few outliers, like a trained layer's. */
function weights(rows: number, columns: number, seed = 1): Float32Array {
  const g = new Generator(seed);
  const out = new Float32Array(rows * columns);
  for (let i = 0; i < out.length; i++) out[i] = g.nextNormal() * 0.02 * (i % 97 === 0 ? 8 : 1);
  return out;
}

describe('fp16 and bf16', () => {
  // Bits from PyTorch 1.13: torch.tensor(values).half() / .bfloat16(), viewed as int16.
  const values = Float32Array.of(
    0,
    -0,
    1,
    1.0009765625,
    1.00048828125,
    1.00146484375,
    65504,
    65520,
    1e-8,
    6.1e-5,
    3e-8,
    -2.5,
    0.1,
    Math.PI,
    1.00390625,
    1.01171875,
    -1e30,
    1e-40,
  );
  const fp16 = [
    0, 32768, 15360, 15361, 15360, 15362, 31743, 31744, 0, 1023, 1, 49408, 11878, 16968, 15364,
    15372, 64512, 0,
  ];
  const bf16 = [
    0, 32768, 16256, 16256, 16256, 16256, 18304, 18304, 12844, 14464, 13057, 49184, 15821, 16457,
    16256, 16258, 61770, 1,
  ];
  it('rounds to nearest even as PyTorch does', () => {
    expect(Array.from(quantizeWeight(values, [1, 18], { format: 'fp16' }).parts.weight)).toEqual(
      fp16,
    );
    expect(Array.from(quantizeWeight(values, [1, 18], { format: 'bf16' }).parts.weight)).toEqual(
      bf16,
    );
  });
  it('round trips within 2^-11 (fp16) and 2^-8 (bf16) relative error', () => {
    const w = weights(8, 64);
    for (const [format, bound] of [
      ['fp16', 2 ** -11],
      ['bf16', 2 ** -8],
    ] as const) {
      const back = dequantizeWeight(quantizeWeight(w, [8, 64], { format }));
      for (let i = 0; i < w.length; i++)
        expect(Math.abs(back[i] - w[i])).toBeLessThanOrEqual(bound * Math.abs(w[i]));
      // A second round trip is exact: the stored values are representable.
      expect(dequantizeWeight(quantizeWeight(back, [8, 64], { format }))).toEqual(back);
    }
  });
});

describe('int8 per output channel', () => {
  it('keeps each row within half its scale and uses the full range', () => {
    const [rows, columns] = [6, 40];
    const w = weights(rows, columns);
    const q = quantizeWeight(w, [rows, columns], { format: 'int8' });
    const back = dequantizeWeight(q);
    const scales = q.parts.scales as Float32Array;
    for (let r = 0; r < rows; r++) {
      let absmax = 0;
      for (let c = 0; c < columns; c++) absmax = Math.max(absmax, Math.abs(w[r * columns + c]));
      expect(scales[r]).toBeCloseTo(absmax / 127, 9);
      const codes = Array.from(
        (q.parts.weight as Int8Array).subarray(r * columns, (r + 1) * columns),
      );
      expect(Math.max(...codes.map(Math.abs))).toBe(127);
      for (let c = 0; c < columns; c++)
        expect(Math.abs(back[r * columns + c] - w[r * columns + c])).toBeLessThanOrEqual(
          scales[r] / 2 + 1e-9,
        );
    }
  });
  it('gives a zero row zero codes and scale', () => {
    const q = quantizeWeight(new Float32Array(8), [2, 4], { format: 'int8' });
    expect(Array.from(q.parts.scales)).toEqual([0, 0]);
    expect(Array.from(dequantizeWeight(q))).toEqual(new Array(8).fill(0));
  });
});

describe('int4 group-wise', () => {
  for (const groupSize of [32, 64, 128]) {
    for (const symmetric of [true, false]) {
      it(`group ${groupSize} ${symmetric ? 'symmetric' : 'asymmetric'}: error <= scale / 2`, () => {
        const [rows, columns] = [4, 256];
        const w = weights(rows, columns, groupSize);
        const q = quantizeWeight(w, [rows, columns], { format: 'int4', groupSize, symmetric });
        expect(q.parts.weight.length).toBe((rows * columns) / 2);
        expect(q.parts.scales.length).toBe((rows * columns) / groupSize);
        const back = dequantizeWeight(q);
        const codes = unpackNibbles(q.parts.weight as Uint8Array);
        for (let i = 0; i < w.length; i++) {
          const scale = q.parts.scales[Math.floor(i / groupSize)];
          expect(Math.abs(back[i] - w[i])).toBeLessThanOrEqual(scale / 2 + 1e-8);
          if (symmetric) expect(codes[i]).toBeGreaterThanOrEqual(1);
        }
      });
    }
  }
  it('packs the first weight of a pair in the high nibble', () => {
    // Symmetric, one group of 32: absmax 7 -> scale 1, so codes are w + 8.
    const w = new Float32Array(32);
    w.set([1, -2, 7, -7]);
    const q = quantizeWeight(w, [1, 32], { format: 'int4', groupSize: 32 });
    expect(Array.from(q.parts.weight.subarray(0, 3))).toEqual([0x96, 0xf1, 0x88]);
  });
  it('rejects a group size that does not divide the width, naming both', () => {
    expect(() => quantizeWeight(new Float32Array(96), [2, 48], { format: 'int4' })).toThrow(
      /groupSize 32 of 'int4' does not divide the width 48/,
    );
    expect(() =>
      quantizeWeight(new Float32Array(96), [2, 48], { format: 'int4', groupSize: 48 }),
    ).toThrow(/groupSize must be 32, 64 or 128 for int4, got 48/);
  });
});

describe('NF4', () => {
  it('stores each weight as the nearest code times its block absmax', () => {
    const [rows, columns] = [4, 128];
    const w = weights(rows, columns, 3);
    const q = quantizeWeight(w, [rows, columns], { format: 'nf4' });
    const absmax = q.parts.absmax as Float32Array;
    expect(absmax.length).toBe((rows * columns) / 64);
    const codes = unpackNibbles(q.parts.weight as Uint8Array);
    const back = dequantizeWeight(q);
    for (let i = 0; i < w.length; i++) {
      const a = absmax[Math.floor(i / 64)];
      const x = w[i] / a;
      const errors = Array.from(NF4_CODE, (c) => Math.abs(c - x));
      expect(errors[codes[i]]).toBeLessThanOrEqual(Math.min(...errors) + 1e-7);
      expect(Math.abs(back[i] - w[i])).toBeLessThanOrEqual(0.152 * a);
    }
  });
  it('double quantization keeps each absmax within half its group scale', () => {
    const [rows, columns] = [64, 512]; // 512 blocks: two groups of 256 scales
    const w = weights(rows, columns, 4);
    const single = quantizeWeight(w, [rows, columns], { format: 'nf4' });
    const double = quantizeWeight(w, [rows, columns], { format: 'nf4', doubleQuantization: true });
    expect(double.parts.weight).toEqual(single.parts.weight);
    expect(double.parts.absmax_scales.length).toBe(2);
    const absmax = single.parts.absmax as Float32Array;
    const back = dequantizeWeight(double);
    const exact = dequantizeWeight(single);
    for (let i = 0; i < w.length; i++) {
      const block = Math.floor(i / 64);
      const scaleError = double.parts.absmax_scales[Math.floor(block / 256)] / 2;
      // |code| <= 1, so a weight moves at most as much as its block's absmax does.
      expect(Math.abs(back[i] - exact[i])).toBeLessThanOrEqual(scaleError + 1e-9);
      expect(Math.abs(back[i] - w[i])).toBeLessThanOrEqual(
        0.152 * absmax[block] + scaleError + 1e-9,
      );
    }
  }, 60_000);
});

// llama.cpp's reference quantizers, written here from their published formulas (ggml-quants.c,
// quantize_row_q8_0_ref and quantize_row_q4_0_ref), every step in float32 through a Float32Array:
//   Q8_0 block of 32: amax = max_j |x_j|; d = amax / 127; id = d != 0 ? 1 / d : 0;
//     y.d = fp16(d); y.qs[j] = roundf(x_j * id)                      (34 bytes: d, qs[32])
//   Q4_0 block of 32: max = x_j of the first largest |x_j|; d = max / -8; id = d != 0 ? 1 / d : 0;
//     y.d = fp16(d); xi(v) = min(15, (int8_t)(v * id + 8.5f));
//     y.qs[j] = xi(x_j) | xi(x_{j+16}) << 4 for j < 16              (18 bytes: d, qs[16])
// fp16 is round-to-nearest-even (ggml's GGML_FP32_TO_FP16, F16C's vcvtps2ph); roundf rounds
// halves away from zero; (int8_t) truncates.
function fp16Bits(value: number): number {
  // Independent of core-tensor's converter: nearest even by search over the 65536 candidates
  // is too slow, so round the float32 mantissa by integer arithmetic on its bits.
  const f = new Float32Array([value]);
  const bits = new Uint32Array(f.buffer)[0];
  const sign = (bits >>> 31) << 15;
  const abs = Math.abs(f[0]);
  if (abs === 0) return sign;
  if (abs >= 65520) return sign | 0x7c00;
  // value = m * 2^e with the half's step 2^(e-10) (normal) or 2^-24 (subnormal).
  const e = Math.max(Math.floor(Math.log2(abs)), -14);
  const step = 2 ** (e - 10);
  let units = abs / step; // exact in float64
  const floor = Math.floor(units);
  const rest = units - floor;
  units = rest > 0.5 || (rest === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  const value16 = units * step;
  // Encode value16 (now exactly representable).
  if (value16 < 2 ** -14) return sign | units;
  const exponent = Math.floor(Math.log2(value16));
  return sign | ((exponent + 15) << 10) | ((value16 / 2 ** exponent - 1) * 1024);
}

function referenceQ8_0(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / 32) * 34);
  const t = new Float32Array(4); // t[0] amax, t[1] d, t[2] id, t[3] x * id
  for (let b = 0; b < x.length / 32; b++) {
    t[0] = 0;
    for (let j = 0; j < 32; j++) t[0] = Math.max(t[0], Math.abs(x[b * 32 + j]));
    t[1] = t[0] / 127;
    t[2] = t[1] !== 0 ? 1 / t[1] : 0;
    const h = fp16Bits(t[1]);
    out[b * 34] = h & 255;
    out[b * 34 + 1] = h >> 8;
    for (let j = 0; j < 32; j++) {
      t[3] = x[b * 32 + j] * t[2];
      const r = Math.sign(t[3]) * Math.floor(Math.abs(t[3]) + 0.5); // roundf
      out[b * 34 + 2 + j] = r & 255;
    }
  }
  return out;
}

function referenceQ4_0(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length / 32) * 18);
  const t = new Float32Array(4); // t[0] max, t[1] d, t[2] id, t[3] v * id + 8.5
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0;
    t[0] = 0;
    for (let j = 0; j < 32; j++) {
      if (amax < Math.abs(x[b * 32 + j])) {
        amax = Math.abs(x[b * 32 + j]);
        t[0] = x[b * 32 + j];
      }
    }
    t[1] = t[0] / -8;
    t[2] = t[1] !== 0 ? 1 / t[1] : 0;
    const h = fp16Bits(t[1]);
    out[b * 18] = h & 255;
    out[b * 18 + 1] = h >> 8;
    const xi = (v: number) => {
      t[3] = v * t[2];
      t[3] = t[3] + 8.5;
      return Math.min(15, t[3] | 0);
    };
    for (let j = 0; j < 16; j++)
      out[b * 18 + 2 + j] = xi(x[b * 32 + j]) | (xi(x[b * 32 + 16 + j]) << 4);
  }
  return out;
}

describe('llama.cpp Q8_0 and Q4_0', () => {
  const [rows, columns] = [16, 256];
  const w = weights(rows, columns, 7);
  // Blocks that stress the edges: zeros, a tie of +-max, halves, a negative max, tiny values.
  const edge = new Float32Array(5 * 32);
  edge.set([3, -3, 1.5, 0.75, -0.375], 32);
  for (let j = 0; j < 32; j++) edge[64 + j] = (j - 16) / 2;
  for (let j = 0; j < 32; j++) edge[96 + j] = -((j * 7) % 13) * 0.1;
  for (let j = 0; j < 32; j++) edge[128 + j] = (j - 10) * 1e-7;

  it('the reference fp16 conversion agrees with core-tensor on every float32 tested', () => {
    for (const v of [...w, ...edge, 65504, 6.1e-5, 3e-8, 1e-40])
      expect(fromFloat16Bits(fp16Bits(v))).toBe(fromFloat16Bits(fp16Bits(Math.fround(v))));
  });
  for (const [format, reference, blockBytes] of [
    ['q8_0', referenceQ8_0, 34],
    ['q4_0', referenceQ4_0, 18],
  ] as const) {
    it(`${format} blocks are byte-identical to the reference quantizer`, () => {
      for (const [data, shape] of [
        [w, [rows, columns]],
        [edge, [5, 32]],
      ] as const) {
        const q = quantizeWeight(data, shape as [number, number], { format });
        expect(q.parts.weight.length).toBe((data.length / 32) * blockBytes);
        expect(Buffer.from(q.parts.weight as Uint8Array).equals(Buffer.from(reference(data)))).toBe(
          true,
        );
      }
    });
    it(`${format} round trip is within its stated bound`, () => {
      const q = quantizeWeight(w, [rows, columns], { format });
      const back = dequantizeWeight(q);
      const view = new DataView(q.parts.weight.buffer);
      for (let i = 0; i < w.length; i++) {
        const b = Math.floor(i / 32);
        const d = Math.abs(fromFloat16Bits(view.getUint16(b * blockBytes, true)));
        // d / 2 for the rounding, plus the fp16 rounding of d times the largest code;
        // Q4_0 may clamp a weight opposite to the block's max by one more step.
        const bound = format === 'q8_0' ? d / 2 + 127 * d * 2 ** -11 : d + 8 * d * 2 ** -11;
        expect(Math.abs(back[i] - w[i])).toBeLessThanOrEqual(bound * (1 + 1e-6));
      }
    });
  }
  it('the Q4_0 nibble order is x[j] low, x[j + 16] high', () => {
    const x = new Float32Array(32);
    x[0] = -8; // max = -8: d = 1, codes x + 8
    x[16] = 3;
    x[1] = 1;
    const q = quantizeWeight(x, [1, 32], { format: 'q4_0' }).parts.weight;
    expect(Array.from(q.subarray(0, 4))).toEqual([0x00, 0x3c, 0x00 | (11 << 4), 9 | (8 << 4)]);
  });
});

describe('bad input', () => {
  it('names an unknown format and the formats there are', () => {
    expect(() =>
      quantizeWeight(new Float32Array(4), [2, 2], { format: 'int3' } as unknown as QuantizeOptions),
    ).toThrow(
      /format must be one of 'fp16', 'bf16', 'int8', 'int4', 'nf4', 'q8_0', 'q4_0', got "int3"/,
    );
  });
  it('rejects non-finite weights and a wrong value count', () => {
    expect(() =>
      quantizeWeight(Float32Array.of(1, Number.NaN), [1, 2], { format: 'int8' }),
    ).toThrow(/element 1 is NaN/);
    expect(() => quantizeWeight(new Float32Array(3), [2, 2], { format: 'int8' })).toThrow(
      QuantizeError,
    );
  });
  it('rejects options of the wrong format', () => {
    expect(() =>
      quantizeWeight(new Float32Array(64), [1, 64], { format: 'q8_0', groupSize: 64 }),
    ).toThrow(/fixed group/);
    expect(() =>
      quantizeWeight(new Float32Array(64), [1, 64], { format: 'int8', doubleQuantization: true }),
    ).toThrow(/nf4 only/);
  });
});
