// One fine-tuning run of the PEFT benchmark, in its own process so its peak RSS is its own.
// node finetune.mjs BASE_DIR METHOD STEPS [OVERRIDE_JSON]
//   METHOD: none | full | lora | qlora | ia3 | prompt-tuning; OVERRIDE_JSON ({"lr": ..., "config":
//   {...}}) replaces the method's settings, for sweeps.
import { statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DTYPE_BYTES, getBackend, manualSeed } from '@llmkit/core-tensor';
import { getPeftModel, saveAdapter } from '@llmkit/peft';
import { causalLanguageModelLoss, TokenWindows, Trainer } from '@llmkit/trainer';
import { load } from '@llmkit/transformer';
import {
  BATCH,
  CONTEXT,
  corpora,
  methodsFor,
  useFastBackend,
  validationSplit,
  windowLoss,
} from './common.mjs';

await useFastBackend();

const [baseDir, method, steps, override] = process.argv.slice(2);
const { domain, text, old, unseen } = corpora(baseDir);
const base = await load(baseDir);
const METHODS = methodsFor(domain, base.config.nEmbd);
base.train();
const total = base.parameterCount();

manualSeed(7);
const spec = { ...METHODS[method], ...(override ? JSON.parse(override) : {}) };
const model = spec.config ? getPeftModel(base, spec.config) : base;
const trainable =
  method === 'none'
    ? 0
    : model
        .parameters()
        .filter((p) => p.requiresGrad)
        .reduce((n, p) => n + p.size, 0);
// weights memory: every parameter and buffer of the model as stored (packed for QLoRA)
const weightBytes = [...model.parameters(), ...model.namedBuffers().map(([, b]) => b)].reduce(
  (n, t) => n + t.size * DTYPE_BYTES[t.dtype],
  0,
);
let msPerStep = null;
if (method !== 'none') {
  const trainer = new Trainer({
    model,
    loss: causalLanguageModelLoss,
    data: new TokenWindows(text, { blockSize: CONTEXT, batchSize: BATCH, seed: 42 }),
    config: {
      maxSteps: Number(steps),
      evalInterval: Number(steps),
      evalBatches: 2,
      schedule: {
        kind: 'cosine',
        learningRate: spec.lr,
        warmupSteps: Math.min(20, Math.floor(Number(steps) / 10)),
        decaySteps: Number(steps),
        minLearningRate: spec.lr / 10,
      },
    },
  });
  msPerStep = (await trainer.train()).msPerStep;
}
let adapterBytes = null;
if (spec.config) {
  const dir = mkdtempSync(join(tmpdir(), 'llmkit-peft-adapter-'));
  await saveAdapter(model, join(dir, 'a'));
  adapterBytes = statSync(join(dir, 'a', 'adapter_model.safetensors')).size;
  rmSync(dir, { recursive: true, force: true });
}
const newLoss = await windowLoss(model, validationSplit(text));
const oldLoss = await windowLoss(model, validationSplit(old));
console.log(
  JSON.stringify({
    method,
    domain,
    width: base.config.nEmbd,
    lr: method === 'none' ? null : spec.lr,
    unseenCharacters: unseen.length,
    backend: getBackend().name,
    quantizedMatmulKernel: getBackend().supports('quantizedMatmul'),
    trainable,
    total,
    weightBytes,
    adapterBytes,
    msPerStep,
    newLoss,
    oldLoss,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
