// One inference case of the real-models bench, in its own process so that its peak RSS is its own:
//   node infer.mjs '<json>'  with { engine: 'llmkit' | 'llama.cpp', dir, gguf, format, threads,
//   prompts: { short, long, decode } (token ids), newTokens, nodeLlamaCpp }
// Prints one JSON line: load seconds, RSS after load and at the end (peak), prefill ms of the
// short and the long prompt, decode tokens/s and the greedy ids after the decode prompt.
// llmkit: loadPretrained(dir, { dtype }) on the cpu backend (dtype 'float32' for f32, the file's
// bf16 by default), then quantizeModel (embeddings too) for q8_0 / q4_0. llama.cpp: the GGUF
// file through node-llama-cpp, mmap'd as llama.cpp does by default, on the cpu only.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const spec = JSON.parse(process.argv[2]);
const now = () => performance.now();
/** RSS now and the process's peak so far (VmRSS, VmHWM), in MiB. */
const rss = () => {
  const status = readFileSync('/proc/self/status', 'utf8');
  const field = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  return { rssMb: field('VmRSS'), peakMb: field('VmHWM') };
};
const argmax = (logits) => {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
};

async function llmkit() {
  await import('../../packages/backend-cpu/dist/register.js');
  const { setCpuThreads } = await import('../../packages/backend-cpu/dist/index.js');
  const { getBackend, setBackend } = await import('../../packages/core-tensor/dist/index.js');
  const { KVCache, loadPretrained } = await import('../../packages/transformer/dist/index.js');
  await setBackend('cpu');
  setCpuThreads(spec.threads);
  const started = now();
  // f32 asks for float32 weights; bf16 and the quantized formats start from the file's dtype
  const dtype = spec.format === 'f32' ? 'float32' : undefined;
  const model = await loadPretrained(spec.dir, { dtype, maxPositions: 2048 });
  // the dtype the matrices are held in before any quantization
  const weightDtype = model.parameters().find((p) => p.shape.length === 2)?.dtype;
  let quantizeSeconds = 0;
  if (spec.format === 'q8_0' || spec.format === 'q4_0') {
    const { quantizeModel } = await import('../../packages/quantize/dist/index.js');
    const t = now();
    quantizeModel(model, { format: spec.format, embeddings: true });
    quantizeSeconds = (now() - t) / 1000;
  }
  const loadSeconds = (now() - started) / 1000;
  const afterLoad = rss();
  const prefill = async (ids) => {
    const cache = new KVCache();
    const t = now();
    const logits = await model.nextTokenLogits([ids], [ids.map(() => 1)], cache);
    return { ms: now() - t, cache, logits };
  };
  const timed = async (ids) => {
    const { ms, cache } = await prefill(ids);
    cache.dispose();
    return ms;
  };
  // warm-up (pools, first-call costs), then the best of two
  await timed(spec.prompts.short);
  const shortMs = Math.min(await timed(spec.prompts.short), await timed(spec.prompts.short));
  const longMs = await timed(spec.prompts.long);
  const { cache, logits } = await prefill(spec.prompts.decode);
  const ids = [argmax(logits)];
  const t = now();
  while (ids.length < spec.newTokens) {
    const next = await model.nextTokenLogits([[ids[ids.length - 1]]], [[1]], cache);
    ids.push(argmax(next));
  }
  const decodeSeconds = (now() - t) / 1000;
  cache.dispose();
  return {
    backend: getBackend().name,
    weightDtype,
    loadSeconds,
    quantizeSeconds,
    afterLoad,
    shortMs,
    longMs,
    decodeTokensPerSecond: (spec.newTokens - 1) / decodeSeconds,
    ids,
  };
}

async function llamaCpp() {
  const require = createRequire(join(spec.nodeLlamaCpp, 'package.json'));
  const { getLlama } = await import(pathToFileURL(require.resolve('node-llama-cpp')).href);
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  const started = now();
  const model = await llama.loadModel({ modelPath: spec.gguf, gpuLayers: 0 });
  const context = await model.createContext({
    contextSize: 1024,
    batchSize: 512,
    threads: spec.threads,
    sequences: 1,
    // llama.cpp's KV cache is f16 unless asked (--llama-kv-cache F32)
    ...(spec.kvCache
      ? { experimentalKvCacheKeyType: spec.kvCache, experimentalKvCacheValueType: spec.kvCache }
      : {}),
  });
  const loadSeconds = (now() - started) / 1000;
  const afterLoad = rss();
  const sequence = context.getSequence();
  const timed = async (ids) => {
    await sequence.clearHistory();
    const t = now();
    await sequence.evaluateWithoutGeneratingNewTokens(ids);
    return now() - t;
  };
  // warm-up (first touch of the mapped weights, first-call costs), then the best of two
  await timed(spec.prompts.short);
  const shortMs = Math.min(await timed(spec.prompts.short), await timed(spec.prompts.short));
  const longMs = await timed(spec.prompts.long);
  await sequence.clearHistory();
  // the first token comes from the prompt's logits; each later one is one decode step
  const ids = [];
  let first = 0;
  for await (const token of sequence.evaluate(spec.prompts.decode, {
    temperature: 0,
    yieldEogToken: true,
  })) {
    if (ids.length === 0) first = now();
    ids.push(token);
    if (ids.length === spec.newTokens) break;
  }
  const decodeSeconds = (now() - first) / 1000;
  await context.dispose();
  await model.dispose();
  return {
    loadSeconds,
    afterLoad,
    shortMs,
    longMs,
    decodeTokensPerSecond: (spec.newTokens - 1) / decodeSeconds,
    ids,
  };
}

const result = spec.engine === 'llmkit' ? await llmkit() : await llamaCpp();
console.log(JSON.stringify({ ...result, end: rss() }));
