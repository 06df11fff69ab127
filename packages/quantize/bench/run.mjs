// pnpm bench quantize: quality and speed of @llmkit/quantize's formats.
//
// Quality: the shakespeare-char model of `llmkit train` (run folder from LLMKIT_QUANTIZE_RUN, or
// trained here with the demo CLI: --preset shakespeare-char --max-steps LLMKIT_QUANTIZE_STEPS,
// default 2000) evaluated on the whole validation split (the last 10% of tinyshakespeare, as the
// CLI splits it), float32 and each format; every Linear but the (tied) head is quantized.
// Speed: GPT-2 124M shape, random weights, 32-token prompt, 128 greedy tokens with the KV cache,
// float32 and int8 / q8_0 / q4_0, best of 3; llama.cpp Q8_0 / Q4_0 on the same weights when
// LLMKIT_NODE_LLAMA_CPP points at a folder where `npm i node-llama-cpp` ran (about 700 MB).
// Timings on a shared machine are noisy; each engine shows its best repeat.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@llmkit/backend-cpu/register';
import { getBackend, manualSeed, setBackend } from '@llmkit/core-tensor';
import {
  exportQuantizedGguf,
  quantizeWithReport,
  weightBytes,
  quantizeModel,
} from '@llmkit/quantize';
import { getEncoding } from '@llmkit/tokenizer';
import { GPT, load } from '@llmkit/transformer';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
await setBackend(getBackend().name);
const cpu = (() => {
  try {
    const text = execFileSync('lscpu', { encoding: 'utf8' });
    const model = /Model name:\s*(.+)/.exec(text)?.[1]?.trim() ?? cpus()[0]?.model;
    const flags = /Flags:\s*(.+)/.exec(text)?.[1] ?? '';
    const simd = ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'avx512_bf16'].filter((f) =>
      flags.split(' ').includes(f),
    );
    return `${model}, ${cpus().length} cores, ${simd.join(' ')}`;
  } catch {
    return cpus()[0]?.model ?? 'unknown';
  }
})();
console.log(
  `CPU: ${cpu}; backend ${getBackend().name}; shared machine, timings noisy (best of repeats)`,
);

// ---- quality ----
const dataPath = join(root, '..', 'shared', 'data', 'tinyshakespeare.txt');
let runDir = process.env.LLMKIT_QUANTIZE_RUN;
const steps = Number(process.env.LLMKIT_QUANTIZE_STEPS ?? 2000);
if (!runDir) {
  runDir = mkdtempSync(join(tmpdir(), 'llmkit-quantize-bench-'));
  console.log(`training shakespeare-char for ${steps} steps into ${runDir} ...`);
  const result = spawnSync(
    process.execPath,
    [
      join(root, 'apps/demo/dist/cli.js'),
      'train',
      '--data',
      dataPath,
      '--preset',
      'shakespeare-char',
      '--max-steps',
      String(steps),
      '--out',
      join(runDir, 'run'),
      '--json',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (result.status !== 0) throw new Error('training failed');
  runDir = join(runDir, 'run');
}
const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
const text = readFileSync(run.data && existsSync(run.data) ? run.data : dataPath, 'utf8');
const index = new Map(run.tokenizer.chars.map((c, i) => [c, i]));
const validation = Array.from(text.slice(Math.floor(text.length * 0.9)), (c) => index.get(c) ?? 0);
const formats = [
  { label: 'int8', options: { format: 'int8' }, goal: 0.5 },
  { label: 'int4 g32', options: { format: 'int4', groupSize: 32 }, goal: 3 },
  { label: 'int4 g128', options: { format: 'int4', groupSize: 128 } },
  { label: 'int4 g32 asym', options: { format: 'int4', groupSize: 32, symmetric: false } },
  { label: 'nf4', options: { format: 'nf4' }, goal: 3 },
  { label: 'nf4 double', options: { format: 'nf4', doubleQuantization: true } },
  { label: 'q8_0', options: { format: 'q8_0' } },
  { label: 'q4_0', options: { format: 'q4_0' } },
  { label: 'fp16', options: { format: 'fp16' } },
  { label: 'bf16', options: { format: 'bf16' } },
];
const quality = [];
for (const f of formats) {
  const model = await load(runDir);
  const r = quantizeWithReport(model, f.options, { tokens: validation, batchSize: 32 });
  quality.push({
    format: f.label,
    layerMB: r.layerBytesAfter / 2 ** 20,
    layerRatio: r.layerBytesAfter / r.layerBytesBefore,
    modelRatio: r.bytesAfter / r.bytesBefore,
    loss: r.lossAfter,
    lossBefore: r.lossBefore,
    perplexity: r.perplexityAfter,
    perplexityBefore: r.perplexityBefore,
    changePercent: r.perplexityChangePercent,
    goal: f.goal,
  });
  model.dispose();
}
const base = quality[0];
console.log(
  `\nQuality: shakespeare-char (${run.model.nLayer} layers, ${run.model.nEmbd} wide), ${validation.length} validation characters, run ${runDir}`,
);
console.log(
  `f32: loss ${base.lossBefore.toFixed(4)}, perplexity ${base.perplexityBefore.toFixed(4)}\n`,
);
console.log(
  '| format | quantized layers MiB | vs f32 (layers) | vs f32 (model) | val loss | perplexity | ppl change | goal |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const q of quality)
  console.log(
    `| ${q.format} | ${q.layerMB.toFixed(3)} | ${q.layerRatio.toFixed(3)}x | ${q.modelRatio.toFixed(3)}x | ${q.loss.toFixed(4)} | ${q.perplexity.toFixed(4)} | ${q.changePercent >= 0 ? '+' : ''}${q.changePercent.toFixed(2)}% | ${q.goal === undefined ? '' : `<= +${q.goal}% ${q.changePercent <= q.goal ? 'met' : 'MISSED'}`} |`,
  );
console.log(
  "llama.cpp's published deltas (LLaMA-7B, wikitext-2): Q8_0 +0.0004 ppl, Q4_0 +0.25 ppl (about +4%).",
);

// ---- speed ----
const speed = [];
if (process.env.LLMKIT_QUANTIZE_SPEED !== '0') {
  const prompt = Array.from({ length: 32 }, (_, i) => (i * 997) % 50257);
  const tokens = 128;
  const make = () => {
    manualSeed(1);
    const m = new GPT({ vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768 });
    return m.eval();
  };
  const time = async (model, repeats = 3) => {
    let best = Infinity;
    let ids;
    for (let r = 0; r < repeats; r++) {
      const started = performance.now();
      [ids] = await model.generate([prompt], { maxNewTokens: tokens });
      best = Math.min(best, performance.now() - started);
    }
    return { seconds: best / 1000, ids: ids.slice(prompt.length) };
  };
  const dir = mkdtempSync(join(tmpdir(), 'llmkit-quantize-speed-'));
  let llama = null;
  const folder = process.env.LLMKIT_NODE_LLAMA_CPP;
  if (folder && existsSync(join(folder, 'node_modules', 'node-llama-cpp'))) {
    const require = createRequire(join(folder, 'package.json'));
    const { getLlama } = await import(require.resolve('node-llama-cpp'));
    llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  }
  for (const format of ['f32', 'int8', 'q8_0', 'q4_0']) {
    const model = make();
    if (format !== 'f32') quantizeModel(model, { format, lmHead: true });
    const bytes = weightBytes(model);
    const ours = await time(model);
    const row = {
      engine: `llmkit ${format}`,
      tokensPerSecond: tokens / ours.seconds,
      weightMB: bytes / 2 ** 20,
    };
    speed.push(row);
    if (llama && (format === 'q8_0' || format === 'q4_0')) {
      const path = join(dir, `${format}.gguf`);
      await exportQuantizedGguf(model, path, { tokenizer: getEncoding('gpt2') });
      const loaded = await llama.loadModel({ modelPath: path });
      const context = await loaded.createContext({ contextSize: 256, threads: cpus().length });
      let best = Infinity;
      for (let r = 0; r < 3; r++) {
        const sequence = context.getSequence();
        const started = performance.now();
        let n = 0;
        for await (const _ of sequence.evaluate(prompt, { temperature: 0 }))
          if (++n === tokens) break;
        best = Math.min(best, performance.now() - started);
        sequence.dispose();
      }
      await context.dispose();
      await loaded.dispose();
      const theirs = {
        engine: `llama.cpp ${format.toUpperCase()}`,
        tokensPerSecond: tokens / (best / 1000),
        weightMB: readFileSync(path).length / 2 ** 20,
      };
      speed.push(theirs);
      row.ratio = row.tokensPerSecond / theirs.tokensPerSecond;
    }
    model.dispose();
  }
  rmSync(dir, { recursive: true, force: true });
  const f32 = speed[0];
  console.log(
    `\nSpeed: GPT-2 124M shape (random weights), ${prompt.length}-token prompt, ${tokens} greedy tokens, best of 3`,
  );
  console.log(
    '| engine | tokens/s (prompt + decode) | weights MiB | vs f32 memory | llmkit / llama.cpp |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const s of speed)
    console.log(
      `| ${s.engine} | ${s.tokensPerSecond.toFixed(1)} | ${s.weightMB.toFixed(1)} | ${(s.weightMB / f32.weightMB).toFixed(3)}x | ${s.ratio ? `${s.ratio.toFixed(2)}x` : ''} |`,
    );
  if (!llama)
    console.log(
      'llama.cpp: skipped (set LLMKIT_NODE_LLAMA_CPP=<folder with node-llama-cpp installed>)',
    );
}
console.log(JSON.stringify({ bench: 'quantize', cpu, quality, speed }));
