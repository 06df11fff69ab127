// 16-bit weights: `quantizedMatmul` with bf16 / fp16 weights W [N, K] (src/kernels/half.cc)
// beside the same backend's float32 gemm (x @ W^T, W float32 [N, K]) and PyTorch's float32
// F.linear, on the Linear shapes of real models (shapes.json `halfWeights`):
//   decoding a token, M = 1: a matrix-vector product per layer, bound by memory bandwidth: ms and
//     GB/s of weights read (bf16 / fp16 read half float32's bytes, so should take half its time);
//   prefill and training, M = 32 and 512: GEMMs in GFLOP/s; and the input gradient dX = dY @ W
//     of LoRA training over a frozen base (`transposed`).
// Each at 1 and 2 threads. The three llmkit variants run interleaved, each repeat calling all
// three, so they see the same load. One 16-bit buffer serves both formats (the bits of the float32
// weights' upper halves: bf16 values, and finite fp16 ones for |w| < 1): the products' time does
// not depend on the values.

const FORMAT = { fp16: 0, bf16: 1 };

/** Best seconds of each of `runs` over `repeats` interleaved rounds (or `budget` seconds). */
export function interleavedBest(runs, repeats, budget) {
  for (const run of runs) run();
  const best = runs.map(() => Number.POSITIVE_INFINITY);
  const start = performance.now();
  for (let i = 0; i < repeats && performance.now() - start < budget * 1e3; i++) {
    runs.forEach((run, j) => {
      const began = performance.now();
      run();
      best[j] = Math.min(best[j], (performance.now() - began) / 1e3);
    });
  }
  return best;
}

/** Float32 weights N(0, 0.05)-like from a fixed xorshift (fast for 250M values), and their bf16 bits. */
function weights(n, k) {
  const f32 = new Float32Array(n * k);
  let s = 0x9e3779b9;
  for (let i = 0; i < f32.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    f32[i] = ((s >>> 0) / 4294967296 - 0.5) * 0.1;
  }
  const bits = new Uint16Array(f32.length);
  const words = new Uint32Array(f32.buffer);
  for (let i = 0; i < words.length; i++) {
    bits[i] = words[i] >>> 16;
    words[i] &= 0xffff0000; // float32 weights equal to the bf16 ones
  }
  return { f32, bytes: new Uint8Array(bits.buffer) };
}

/**
 * Runs the three llmkit variants of one product: out = x @ W^T (transposed false) or
 * out = x @ W (transposed true), x [M, K] or [M, N]. Returns seconds for f32, bf16, fp16.
 */
function timeProduct(native, w, { m, n, k, transposed }, repeats, budget) {
  const inner = transposed ? n : k;
  const outer = transposed ? k : n;
  const x = Float32Array.from({ length: m * inner }, () => Math.random() - 0.5);
  const out = new Float32Array(m * outer);
  const f32 = () =>
    native.gemm(
      false,
      !transposed,
      m,
      outer,
      inner,
      1,
      x,
      0,
      inner,
      0,
      w.f32,
      0,
      k,
      0,
      0,
      out,
      0,
      outer,
      0,
      1,
    );
  const half = (format) => () =>
    native.quantizedMatmul(
      FORMAT[format],
      m,
      n,
      k,
      0,
      true,
      transposed,
      x,
      w.bytes,
      null,
      null,
      out,
      false,
    );
  const [tf32, tbf16, tfp16] = interleavedBest([f32, half('bf16'), half('fp16')], repeats, budget);
  return { f32: tf32, bf16: tbf16, fp16: tfp16 };
}

/**
 * The whole comparison. `torch(threads)` returns PyTorch's side at that thread count (or
 * undefined); `setThreads` sets llmkit's. Prints two tables; returns the rows for the JSON line.
 */
export function benchHalfWeights({ native, spec, setThreads, torch, quick }) {
  const repeats = quick ? 3 : 15;
  const budget = quick ? 1 : 4;
  const rows = [];
  const peers = Object.fromEntries(spec.threads.map((threads) => [threads, torch(threads)]));
  const cases = [
    ...spec.matvec.map((c) => ({ ...c, m: 1, kind: 'matvec', transposed: false })),
    ...spec.gemm.flatMap((c) =>
      spec.rows.map((m) => ({ ...c, m, kind: 'gemm', transposed: false })),
    ),
    ...spec.gradient.flatMap((c) =>
      spec.rows.map((m) => ({ ...c, m, kind: 'gradient', transposed: true })),
    ),
  ];
  // Weights are made once per shape (the LM heads take a second and a GB).
  const made = new Map();
  for (const c of cases) {
    const key = `${c.n}x${c.k}`;
    if (!made.has(key)) {
      made.clear();
      made.set(key, weights(c.n, c.k));
    }
    for (const threads of spec.threads) {
      setThreads(threads);
      const seconds = timeProduct(native, made.get(key), c, repeats, budget);
      const label = c.kind === 'gradient' ? `${c.name} dX` : c.name;
      const peerKey = `${c.kind} ${c.name} M=${c.m}`;
      rows.push({ ...c, label, threads, seconds, torch: peers[threads]?.[peerKey] });
    }
  }
  const pad = (value, width) => String(value).padStart(width);
  const ms = (s) => (s * 1e3).toFixed(3);
  console.log(
    'Decoding a token (M = 1): ms per product, GB/s of weights read, float32 time / 16-bit time',
  );
  console.log(
    `| ${'Linear (N x K)'.padEnd(36)} | thr | f32 ms | bf16 ms | fp16 ms | f32 GB/s | bf16 GB/s | fp16 GB/s | f32/bf16 | f32/fp16 | PyTorch f32 ms |`,
  );
  console.log(
    `| ${'-'.repeat(36)} | --- | ------ | ------- | ------- | -------- | --------- | --------- | -------- | -------- | -------------- |`,
  );
  for (const r of rows.filter((row) => row.kind === 'matvec')) {
    const bytes = r.n * r.k;
    const gbs = (s, width) => ((width * bytes) / s / 1e9).toFixed(1);
    console.log(
      `| ${`${r.label} (${r.n} x ${r.k})`.padEnd(36)} | ${pad(r.threads, 3)} | ${pad(ms(r.seconds.f32), 6)} | ${pad(ms(r.seconds.bf16), 7)} | ${pad(ms(r.seconds.fp16), 7)} | ${pad(gbs(r.seconds.f32, 4), 8)} | ${pad(gbs(r.seconds.bf16, 2), 9)} | ${pad(gbs(r.seconds.fp16, 2), 9)} | ${pad((r.seconds.f32 / r.seconds.bf16).toFixed(2), 8)} | ${pad((r.seconds.f32 / r.seconds.fp16).toFixed(2), 8)} | ${pad(r.torch === undefined ? 'n/a' : (r.torch * 1e3).toFixed(3), 14)} |`,
    );
  }
  console.log('\nPrefill / training (M = 32, 512) and the input gradient dX: GFLOP/s');
  console.log(
    `| ${'Linear (M x N x K)'.padEnd(44)} | thr | f32 | bf16 | fp16 | PyTorch f32 | bf16 / f32 | bf16 / PyTorch |`,
  );
  console.log(
    `| ${'-'.repeat(44)} | --- | ----- | ----- | ----- | ----------- | ---------- | -------------- |`,
  );
  for (const r of rows.filter((row) => row.kind !== 'matvec')) {
    const flops = 2 * r.m * r.n * r.k;
    const gf = (s) => (s === undefined ? undefined : flops / s / 1e9);
    const fixed = (v) => (v === undefined ? 'n/a' : v.toFixed(1));
    console.log(
      `| ${`${r.label} (${r.m} x ${r.n} x ${r.k})`.padEnd(44)} | ${pad(r.threads, 3)} | ${pad(fixed(gf(r.seconds.f32)), 5)} | ${pad(fixed(gf(r.seconds.bf16)), 5)} | ${pad(fixed(gf(r.seconds.fp16)), 5)} | ${pad(fixed(gf(r.torch)), 11)} | ${pad((r.seconds.f32 / r.seconds.bf16).toFixed(2), 10)} | ${pad(r.torch === undefined ? 'n/a' : (r.torch / r.seconds.bf16).toFixed(2), 14)} |`,
    );
  }
  console.log('');
  return rows.map(({ label, kind, m, n, k, threads, seconds, torch: peer }) => ({
    label,
    kind,
    m,
    n,
    k,
    threads,
    seconds,
    torchSeconds: peer,
  }));
}
