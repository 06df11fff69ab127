import type { SamplerConfig } from './config.js';

let warmed = false;

/**
 * Runs every sampling path once on a small vocabulary, the first time a sampler is made.
 *
 * Why: V8 compiles a long loop while it runs (on-stack replacement). If the code after the loop,
 * or a branch inside it, has never run, the compiled code lacks type feedback there and bails
 * out when it gets there; measured here, that bail-out recurred on every call of argmax, top-k,
 * min-p and multinomial sampling over large vocabularies, costing up to half their time. One
 * run on 2,048 logits (too short to trigger on-stack replacement) gives every site feedback.
 */
export function warmUp(
  create: (config: SamplerConfig) => {
    sample(logits: Float32Array, previousTokens?: ArrayLike<number>): number;
  },
): void {
  if (warmed) return;
  warmed = true;
  const logits = new Float32Array(2048);
  let x = 12345;
  for (let i = 0; i < logits.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    logits[i] = i % 97 === 0 ? -Infinity : ((x >>> 8) / 16777216) * 12 - 6;
  }
  const configs: SamplerConfig[] = [
    {},
    { doSample: true },
    { doSample: true, topK: 50, topP: 0.9 },
    { doSample: true, temperature: 0.8, topK: 50, topP: 0.9, repetitionPenalty: 1.1 },
    { doSample: true, topP: 0.9 },
    { doSample: true, minP: 0.05 },
    { doSample: true, typicalP: 0.9 },
  ];
  for (const config of configs) {
    const sampler = create({ ...config, seed: 1 });
    for (let i = 0; i < 2; i++) sampler.sample(logits, [1, 2, 3]);
  }
}
