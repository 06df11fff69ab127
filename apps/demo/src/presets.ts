import type { TrainerConfigInput } from '@llmkit/trainer';
import { CliError } from './cli-error.js';

/** A named recipe: model shape, batch shape and trainer settings. */
export interface Preset {
  /** What the preset is, for `--help`. */
  description: string;
  /** Model shape (the vocabulary size comes from the data). */
  model: {
    blockSize: number;
    nLayer: number;
    nHead: number;
    nEmbd: number;
    dropout: number;
    bias: boolean;
    activation: 'gelu' | 'gelu-tanh';
  };
  /** Windows per batch. */
  batchSize: number;
  /** Trainer settings for `maxSteps` steps. */
  trainer: (maxSteps: number) => TrainerConfigInput;
  /** Steps when `--max-steps` is not given. */
  defaultMaxSteps: number;
}

/**
 * nanoGPT's `shakespeare_char` configuration as its README runs it on a CPU: 4 layers, 4 heads,
 * 128 embedding, block 64, batch 12, no dropout, no bias, exact GELU; AdamW lr 1e-3, betas (0.9, 0.99),
 * weight decay 0.1, 100 warmup steps, cosine to 1e-4 at the last step, clipping at 1.0,
 * evaluation every 250 steps over 20 batches. nanoGPT reports validation loss 1.88 at 2,000.
 */
const shakespeareChar: Preset = {
  description:
    "nanoGPT's small character-level CPU configuration (4 layers, 4 heads, 128 wide, block 64)",
  // nanoGPT's MLP uses nn.GELU(), the exact (erf) form.
  model: {
    blockSize: 64,
    nLayer: 4,
    nHead: 4,
    nEmbd: 128,
    dropout: 0,
    bias: false,
    activation: 'gelu',
  },
  batchSize: 12,
  defaultMaxSteps: 2000,
  trainer: (maxSteps) => ({
    maxSteps,
    schedule: {
      kind: 'cosine',
      learningRate: 1e-3,
      warmupSteps: Math.min(100, Math.floor(maxSteps / 10)),
      decaySteps: maxSteps,
      minLearningRate: 1e-4,
    },
    betas: [0.9, 0.99],
    weightDecay: 0.1,
    maxGradNorm: 1.0,
    evalInterval: 250,
    evalBatches: 20,
  }),
};

/** The presets `llmkit train --preset` knows. */
export const PRESETS: Record<string, Preset> = { 'shakespeare-char': shakespeareChar };

/** The preset called `name`, or an error listing the known ones. */
export function presetNamed(name: string): Preset {
  const preset = PRESETS[name];
  if (!preset)
    throw new CliError(
      `unknown preset ${JSON.stringify(name)}; known presets: ${Object.keys(PRESETS).join(', ')}`,
    );
  return preset;
}
