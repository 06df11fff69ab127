// The fused native kernels against PyTorch (test/fixtures/kernels.json, made by
// test/make-fixtures.py), on every instruction-set path this CPU runs.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { setCpuIsa, supportedCpuIsas } from './isa.js';
import { nativeKernels } from './native.js';

const fixtures = JSON.parse(
  readFileSync(new URL('../test/fixtures/kernels.json', import.meta.url), 'utf8'),
).cases;
const native = nativeKernels();
const f32 = (values: number[]) => Float32Array.from(values);
const i32 = (values: number[]) => Int32Array.from(values);

/** Max over i of |actual - expected| / (atol + rtol |expected|) must stay <= 1. */
function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol = 1e-5,
  rtol = 1e-4,
) {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const ratio = Math.abs(actual[i] - expected[i]) / (atol + rtol * Math.abs(expected[i]));
    if (!(ratio <= worst)) {
      worst = ratio;
      at = i;
    }
  }
  expect(worst, `element ${at}: ${actual[at]} vs ${expected[at]}`).toBeLessThanOrEqual(1);
}

afterAll(() => {
  setCpuIsa('default');
});

for (const isa of supportedCpuIsas()) {
  describe(`${isa} kernels`, () => {
    it('selects the instruction set', () => {
      expect(setCpuIsa(isa)).toBe(isa);
      expect(native.info().isa).toBe(isa);
    });

    it('layerNorm forward and backward match PyTorch', () => {
      setCpuIsa(isa);
      const c = fixtures.layerNorm;
      const y = new Float32Array(c.rows * c.cols);
      const mean = new Float32Array(c.rows);
      const rstd = new Float32Array(c.rows);
      const x = f32(c.x);
      const weight = f32(c.weight);
      native.layerNorm(x, weight, f32(c.bias), y, mean, rstd, c.rows, c.cols, c.eps);
      expectClose(y, c.y);
      const dx = new Float32Array(c.rows * c.cols);
      const dweight = new Float32Array(c.cols);
      const dbias = new Float32Array(c.cols);
      native.layerNormBackward(
        x,
        weight,
        mean,
        rstd,
        f32(c.dy),
        dx,
        dweight,
        dbias,
        c.rows,
        c.cols,
      );
      expectClose(dx, c.dx, 1e-4);
      expectClose(dweight, c.dweight, 1e-4);
      expectClose(dbias, c.dbias, 1e-4);
    });

    for (const name of ['gelu', 'geluTanh']) {
      it(`${name} forward and backward match PyTorch`, () => {
        setCpuIsa(isa);
        const c = fixtures[name];
        const y = new Float32Array(c.n);
        const dx = new Float32Array(c.n);
        native.gelu(f32(c.x), y, c.n, name === 'geluTanh');
        native.geluBackward(f32(c.x), f32(c.dy), dx, c.n, name === 'geluTanh');
        expectClose(y, c.y, 2e-6);
        expectClose(dx, c.dx, 2e-6);
      });
    }

    for (const name of ['softmax', 'logSoftmax']) {
      it(`${name} forward and backward match PyTorch`, () => {
        setCpuIsa(isa);
        const c = fixtures[name];
        const log = name === 'logSoftmax';
        const y = new Float32Array(c.rows * c.cols);
        native.softmax(f32(c.x), y, c.rows, c.cols, log);
        expectClose(y, c.y, 1e-6);
        const dx = new Float32Array(c.rows * c.cols);
        native.softmaxBackward(y, f32(c.dy), dx, c.rows, c.cols, log);
        expectClose(dx, c.dx, 1e-5);
      });
    }

    it('crossEntropy with ignoreIndex and label smoothing matches PyTorch', () => {
      setCpuIsa(isa);
      const c = fixtures.crossEntropy;
      const logits = f32(c.logits);
      const targets = i32(c.targets);
      const loss = new Float32Array(c.rows);
      const lse = new Float32Array(c.rows);
      native.crossEntropy(
        logits,
        targets,
        loss,
        lse,
        c.rows,
        c.vocab,
        c.ignoreIndex,
        c.labelSmoothing,
      );
      expectClose(loss, c.loss);
      const dlogits = new Float32Array(c.rows * c.vocab);
      for (const saved of [lse, null]) {
        native.crossEntropyBackward(
          logits,
          targets,
          saved,
          f32(c.dloss),
          dlogits,
          c.rows,
          c.vocab,
          c.ignoreIndex,
          c.labelSmoothing,
        );
        expectClose(dlogits, c.dlogits, 1e-6);
      }
    });

    it('rejects a target outside the vocabulary, naming it', () => {
      const targets = i32([0, 70]);
      expect(() =>
        native.crossEntropy(
          new Float32Array(2 * 65),
          targets,
          new Float32Array(2),
          null,
          2,
          65,
          -100,
          0,
        ),
      ).toThrow('crossEntropy: target 70 at row 1 is outside [0, 65)');
    });

    for (const name of ['attention', 'attentionPrefix']) {
      it(`causal ${name} forward and backward match PyTorch`, () => {
        setCpuIsa(isa);
        const c = fixtures[name];
        const [q, k, v] = [f32(c.q), f32(c.k), f32(c.v)];
        const out = new Float32Array(c.heads * c.queries * c.dimV);
        const lse = new Float32Array(c.heads * c.queries);
        native.attention(
          q,
          k,
          v,
          out,
          lse,
          c.heads,
          c.queries,
          c.keys,
          c.dim,
          c.dimV,
          c.scale,
          true,
          c.keys * c.dim,
          c.keys * c.dimV,
          1,
        );
        expectClose(out, c.out);
        const dq = new Float32Array(q.length);
        const dk = new Float32Array(k.length).fill(Number.NaN); // overwritten, not accumulated
        const dv = new Float32Array(v.length).fill(Number.NaN);
        native.attentionBackward(
          q,
          k,
          v,
          out,
          f32(c.dout),
          lse,
          dq,
          dk,
          dv,
          c.heads,
          c.queries,
          c.keys,
          c.dim,
          c.dimV,
          c.scale,
          true,
          1,
        );
        expectClose(dq, c.dq, 1e-4);
        expectClose(dk, c.dk, 1e-4);
        expectClose(dv, c.dv, 1e-4);
      });
    }

    it('embedding forward and scatter-add backward match PyTorch', () => {
      setCpuIsa(isa);
      const c = fixtures.embedding;
      const out = new Float32Array(c.ids.length * c.dim);
      native.embedding(f32(c.weight), i32(c.ids), out, c.ids.length, c.dim, c.vocab);
      expect(out).toEqual(f32(c.out)); // a copy: exact
      const dweight = new Float32Array(c.vocab * c.dim);
      native.embeddingBackward(f32(c.dout), i32(c.ids), dweight, c.ids.length, c.dim, c.vocab);
      expectClose(dweight, c.dweight, 1e-6);
      expect(() => native.embedding(f32(c.weight), i32([10]), out, 1, c.dim, c.vocab)).toThrow(
        'outside [0, 10)',
      );
    });

    it('AdamW matches three steps of torch.optim.AdamW', () => {
      setCpuIsa(isa);
      const c = fixtures.adamw;
      const param = f32(c.start);
      const m = new Float32Array(c.n);
      const v = new Float32Array(c.n);
      c.grads.forEach((grad: number[], step: number) => {
        native.adamw(
          param,
          f32(grad),
          m,
          v,
          c.n,
          c.lr,
          c.beta1,
          c.beta2,
          c.eps,
          c.weightDecay,
          step + 1,
        );
      });
      expectClose(param, c.end, 1e-6, 1e-5);
    });
  });
}
