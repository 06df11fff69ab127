// Exercises every native kernel (both instruction sets, 1 and 2 threads, argument errors) so
// that scripts/leak-check.sh can run it under AddressSanitizer + LeakSanitizer. Prints one
// line per pass; any heap error aborts the process with ASan's report.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const native = require(process.env.LLMKIT_CPU_ADDON ?? '../build/Release/llmkit_cpu.node');

const random = (n) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
const ids = (n, vocab) => Int32Array.from({ length: n }, () => Math.floor(Math.random() * vocab));
const layout = (shape, ...strides) =>
  Float64Array.from([shape.length, ...shape, ...strides.flatMap((s) => [0, ...s])]);

function pass() {
  const [m, n, k] = [70, 90, 300];
  native.gemm(
    false,
    true,
    m,
    n,
    k,
    1,
    random(m * k),
    0,
    k,
    0,
    random(n * k),
    0,
    k,
    0,
    0,
    new Float32Array(m * n),
    0,
    n,
    0,
    1,
  );
  native.gemm(
    true,
    false,
    300,
    300,
    300,
    1,
    random(90000),
    0,
    300,
    0,
    random(90000),
    0,
    300,
    0,
    0,
    new Float32Array(90000),
    0,
    300,
    0,
    1,
  );
  const [rows, cols] = [64, 130];
  const x = random(rows * cols);
  const y = new Float32Array(rows * cols);
  native.softmax(x, y, rows, cols, false);
  native.softmaxBackward(y, random(rows * cols), new Float32Array(rows * cols), rows, cols, false);
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  native.layerNorm(x, random(cols), random(cols), y, mean, rstd, rows, cols, 1e-5);
  native.layerNormBackward(
    x,
    random(cols),
    mean,
    rstd,
    random(rows * cols),
    new Float32Array(rows * cols),
    new Float32Array(cols),
    new Float32Array(cols),
    rows,
    cols,
  );
  native.gelu(x, y, rows * cols, false);
  native.geluBackward(x, random(rows * cols), y, rows * cols, true);
  const targets = ids(rows, cols);
  const lse = new Float32Array(rows);
  native.crossEntropy(x, targets, new Float32Array(rows), lse, rows, cols, -100, 0.1);
  native.crossEntropyBackward(x, targets, lse, random(rows), y, rows, cols, -100, 0.1);
  native.embedding(random(cols * 16), targets, new Float32Array(rows * 16), rows, 16, cols);
  native.embeddingBackward(random(rows * 16), targets, new Float32Array(cols * 16), rows, 16, cols);
  native.adamw(
    random(5000),
    random(5000),
    new Float32Array(5000),
    new Float32Array(5000),
    5000,
    1e-3,
    0.9,
    0.999,
    1e-8,
    0.1,
    3,
  );
  const [h, t, d] = [4, 200, 32];
  const [q, kk, v] = [random(h * t * d), random(h * t * d), random(h * t * d)];
  const out = new Float32Array(h * t * d);
  const lseA = new Float32Array(h * t);
  native.attention(q, kk, v, out, lseA, h, t, t, d, d, 0.17, true, t * d, t * d, 1);
  native.attentionBackward(
    q,
    kk,
    v,
    out,
    random(h * t * d),
    lseA,
    new Float32Array(h * t * d),
    new Float32Array(h * t * d),
    new Float32Array(h * t * d),
    h,
    t,
    t,
    d,
    d,
    0.17,
    true,
    1,
  );
  const big = random(300 * 400);
  const dst = new Float32Array(300 * 400);
  native.unary(1, big, dst, layout([300, 400], [400, 1], [400, 1]));
  native.unary(19, big, dst, layout([400, 300], [1, 400], [300, 1]));
  native.binary(0, big, random(400), dst, layout([300, 400], [400, 1], [0, 1], [400, 1]));
  native.reduce(0, big, new Float32Array(400), 400, layout([300, 400], [400, 1], [0, 1]));
  native.where(
    Uint8Array.from({ length: 400 }, (_, i) => i % 2),
    big,
    random(400),
    dst,
    layout([300, 400], [0, 1], [400, 1], [0, 1], [400, 1]),
  );
  native.gather(
    random(65 * 16),
    ids(40 * 16, 65),
    new Float32Array(40 * 16),
    65,
    16,
    layout([40, 16], [16, 1], [16, 1], [0, 1]),
  );
  for (const bad of [
    () => native.crossEntropy(x, Int32Array.of(999), lse, null, 1, cols, -100, 0),
    () =>
      native.gemm(
        false,
        false,
        9,
        9,
        9,
        1,
        x,
        0,
        9,
        0,
        new Float32Array(3),
        0,
        9,
        0,
        0,
        y,
        0,
        9,
        0,
        1,
      ),
  ]) {
    try {
      bad();
    } catch {}
  }
}

for (const portable of [false, true]) {
  native.forcePortable(portable);
  for (const threads of [1, 2]) {
    native.setThreads(threads);
    for (let i = 0; i < 3; i++) pass();
    console.log(`leak-check: ${native.info().isa}, ${threads} thread(s): ok`);
  }
}
