// llmkit's LoRA step of the real-models bench, in its own process (peak RSS its own):
//   node lora.mjs '<json>'  with { dir, tokens (a JSON file: { batch, sequence, ids }), threads,
//   steps, learningRate }
// The model loads as float32 (the PyTorch peer's precision); @llmkit/peft's LoRA, r 8, alpha 16,
// on `c_attn`: llmkit's Llama / Qwen modules fuse q, k and v into that one Linear, so one adapter
// pair (A [8, d], B [q + 2 kv, 8]) stands where PEFT would put three on q_proj, k_proj, v_proj.
// AdamW over the adapter only. Prints one JSON line: the first loss, ms per step (one warm-up,
// then the median of the rest), RSS after load and the peak.
import { readFileSync } from 'node:fs';

const spec = JSON.parse(process.argv[2]);
const now = () => performance.now();
const peakMb = () =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;

await import('../../packages/backend-cpu/dist/register.js');
const { setCpuThreads } = await import('../../packages/backend-cpu/dist/index.js');
const { AdamW, crossEntropy, setBackend, tensor, tidy } = await import(
  '../../packages/core-tensor/dist/index.js'
);
const { getPeftModel } = await import('../../packages/peft/dist/index.js');
const { loadPretrained } = await import('../../packages/transformer/dist/index.js');
await setBackend('cpu');
setCpuThreads(spec.threads);

const { batch: B, sequence: T, ids } = JSON.parse(readFileSync(spec.tokens, 'utf8'));
// ids holds B rows of T + 1 tokens: inputs are the first T, targets the last T
const inputs = new Int32Array(B * T);
const targets = new Int32Array(B * T);
for (let b = 0; b < B; b++)
  for (let t = 0; t < T; t++) {
    inputs[b * T + t] = ids[b * (T + 1) + t];
    targets[b * T + t] = ids[b * (T + 1) + t + 1];
  }

let started = now();
const base = await loadPretrained(spec.dir, { dtype: 'float32', maxPositions: T });
const loadSeconds = (now() - started) / 1000;
const afterLoadMb = peakMb();
const model = getPeftModel(base, { method: 'lora', r: 8, alpha: 16, targetModules: ['c_attn'] });
model.train();
const trainable = model.trainableParameters();
const optimizer = new AdamW(trainable, { lr: spec.learningRate, weightDecay: 0 });
const losses = [];
const stepMs = [];
for (let step = 0; step < spec.steps; step++) {
  started = now();
  const loss = tidy(() => {
    const { logits } = model.forward(tensor(inputs, { shape: [B, T], dtype: 'int32' }));
    const value = crossEntropy(
      logits.reshape([B * T, logits.shape[2]]),
      tensor(targets, { shape: [B * T], dtype: 'int32' }),
    );
    value.backward();
    return value;
  });
  optimizer.step();
  optimizer.zeroGrad();
  losses.push((await loss.data())[0]);
  loss.dispose();
  stepMs.push(now() - started);
}
const measured = stepMs.slice(1).sort((a, b) => a - b);
console.log(
  JSON.stringify({
    trainable: trainable.reduce((n, p) => n + p.size, 0),
    target: 'c_attn (fused q, k, v)',
    loadSeconds,
    losses,
    stepMs,
    msPerStep: measured.length ? measured[Math.floor(measured.length / 2)] : stepMs[0],
    afterLoadMb,
    peakMb: peakMb(),
  }),
);
