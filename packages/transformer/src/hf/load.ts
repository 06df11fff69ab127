// loadPretrained / loadPretrainedEncoder: a Hugging Face model folder (config.json plus
// model.safetensors, or shards with model.safetensors.index.json) -> a llmkit model.
import { dispose, noGrad, type Tensor, withoutInit } from '@llmkit/core-tensor';
import { EncoderForMaskedLM, EncoderForSequenceClassification } from '../encoder/heads.js';
import { Encoder } from '../encoder/model.js';
import { readFailureCode, TransformerError } from '../errors.js';
import { GPT } from '../gpt/model.js';
import { fromHuggingFaceStateDict, gptConfigFromHuggingFace } from './convert.js';
import {
  applyKeyPlan,
  bertKeyPlan,
  type KeyPlan,
  PlanJoiner,
  decoderConfigFromHuggingFace,
  encoderConfigFromHuggingFace,
  LLAMA_FAMILY,
  llamaKeyPlan,
} from './families.js';
import {
  LOAD_DTYPES,
  type LoadDType,
  type LoadProgress,
  readHuggingFaceWeights,
} from './weights.js';

export type { LoadDType, LoadProgress } from './weights.js';

/** Options of {@link loadPretrained} and {@link loadPretrainedEncoder}. */
export interface LoadPretrainedOptions {
  /** Backend for the weights (default: the active one). */
  backend?: string;
  /**
   * Cap on the context length (default: the file's `max_position_embeddings`). RoPE tables are
   * `positions x headSize`, so a 128k-token model loaded for short prompts saves memory with this.
   */
  maxPositions?: number;
  /**
   * The dtype weights are kept in (default `'auto'`: each weight matrix in the file's dtype, so a
   * bf16 checkpoint stays bf16 and takes about the file's size in memory, as `torch_dtype="auto"`).
   * `'float32'` for full fine-tuning (16-bit weights are frozen: they take adapters, not
   * optimizer steps), `'bfloat16'` / `'float16'` to store a float32 file's matrices in 16 bits.
   * Norms and biases are float32 in every case.
   */
  dtype?: LoadDType;
  /** Called after each weight file is read (large folders come in several shards). */
  onProgress?: (progress: LoadProgress) => void;
}

async function readConfig(dir: string): Promise<Record<string, unknown>> {
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  try {
    return JSON.parse(await fs.readFile(join(dir, 'config.json'), 'utf8'));
  } catch (error) {
    throw new TransformerError(
      readFailureCode(error),
      `loadPretrained: cannot read ${join(dir, 'config.json')}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Loads weights into `model` by `convert`, disposing the model on any failure. */
async function fill<
  M extends GPT | Encoder | EncoderForMaskedLM | EncoderForSequenceClassification,
>(
  model: M,
  dir: string,
  options: LoadPretrainedOptions,
  convert: (
    tensors: Record<string, Tensor>,
    expected: Record<string, readonly number[]>,
    joined: Record<string, Tensor>,
  ) => Record<string, Tensor>,
  plan?: KeyPlan,
): Promise<M> {
  let tensors: Record<string, Tensor>;
  const joiner = plan ? new PlanJoiner(plan) : null;
  try {
    if (options.dtype !== undefined && !LOAD_DTYPES.includes(options.dtype))
      throw new TransformerError(
        'invalid_argument',
        `loadPretrained: dtype ${JSON.stringify(options.dtype)} is not one of ${LOAD_DTYPES.join(', ')}`,
      );
    tensors = await readHuggingFaceWeights(dir, { ...options, map: joiner?.take });
    if (joiner) Object.assign(tensors, joiner.rest());
  } catch (error) {
    joiner?.dispose();
    model.dispose();
    throw error;
  }
  // The model was built without initialising (its zeros were never written, so they take no
  // memory); it now takes the loaded tensors themselves (assign), in their dtype: no second copy.
  let converted: Record<string, Tensor> = {};
  try {
    noGrad(() => {
      const expected = Object.fromEntries(
        Object.entries(model.stateDict()).map(([k, t]) => [k, t.shape]),
      );
      converted = convert(tensors, expected, joiner?.joined ?? {});
      model.loadStateDict(converted, { assign: true });
    });
  } catch (error) {
    dispose(Object.values(converted));
    joiner?.dispose();
    model.dispose();
    throw error;
  } finally {
    // what the model did not take: parts joined into one tensor, ignored copies
    const kept = new Set(Object.values(model.stateDict()));
    const backend = Object.values(tensors).find((t) => !t.disposed)?.backend;
    dispose(Object.values(tensors).filter((t) => !kept.has(t)));
    // the parts joined into one tensor were freed into the backend's pool: give them back, so
    // memory after loading is the model
    backend?.releasePool?.();
  }
  model.eval();
  return model;
}

/**
 * Loads a decoder-only checkpoint in Hugging Face's layout: `model_type` `gpt2`, `llama`,
 * `mistral`, `qwen2` or `qwen3`; one `model.safetensors` or shards; float16 / bfloat16 weights
 * converted to float32; tied or untied embeddings; RoPE scaling `default` or `llama3`. A file
 * that does not match gets one error listing every missing key, unexpected key and shape
 * mismatch; a feature llmkit lacks (sliding-window attention shorter than the context, another
 * RoPE scaling) an `unsupported` error naming it. The model comes back in eval mode, like
 * `from_pretrained`. BERT folders load with {@link loadPretrainedEncoder}.
 *
 * @example
 * ```ts
 * const model = await loadPretrained('./Qwen3-0.6B', { maxPositions: 4096 });
 * const tokenizer = await loadTokenizer('./Qwen3-0.6B');
 * const [ids] = await model.generate([tokenizer.encode('Hello')], { maxNewTokens: 20 });
 * ```
 */
export async function loadPretrained(
  dir: string,
  options: LoadPretrainedOptions = {},
): Promise<GPT> {
  const json = await readConfig(dir);
  const type = (json.model_type as string | undefined) ?? 'gpt2';
  if (type === 'gpt2') {
    const config = gptConfigFromHuggingFace(json);
    if (options.maxPositions) config.blockSize = Math.min(config.blockSize, options.maxPositions);
    const model = withoutInit(() => new GPT(config));
    return fill(model, dir, options, (tensors, expected) => {
      // gpt2's learned positions are cut to blockSize when capped
      const wpe = tensors['transformer.wpe.weight'] ?? tensors['wpe.weight'];
      if (wpe && options.maxPositions && wpe.shape[0] > config.blockSize) {
        const key = 'transformer.wpe.weight' in tensors ? 'transformer.wpe.weight' : 'wpe.weight';
        tensors[key] = wpe.narrow(0, 0, config.blockSize).contiguous();
        wpe.dispose();
      }
      return fromHuggingFaceStateDict(tensors, expected, model.config.tieWordEmbeddings);
    });
  }
  if ((LLAMA_FAMILY as readonly string[]).includes(type)) {
    const model = withoutInit(
      () => new GPT(decoderConfigFromHuggingFace(json, options.maxPositions)),
    );
    const tied = model.config.tieWordEmbeddings;
    const plan = llamaKeyPlan(model.config);
    return fill(
      model,
      dir,
      options,
      (tensors, expected, joined) =>
        applyKeyPlan(
          tensors,
          plan,
          expected,
          type,
          (key) => tied && key === 'lm_head.weight',
          joined,
        ),
      plan,
    );
  }
  if (type === 'bert')
    throw new TransformerError(
      'unsupported',
      `loadPretrained: ${dir} holds a BERT model (an encoder); load it with loadPretrainedEncoder`,
    );
  throw new TransformerError(
    'unsupported',
    `loadPretrained: model_type ${JSON.stringify(type)} in ${dir}/config.json is not supported; supported: gpt2, ${LLAMA_FAMILY.join(', ')} (and bert with loadPretrainedEncoder)`,
  );
}

/**
 * Loads a BERT checkpoint in Hugging Face's layout into an {@link Encoder}, or the head its
 * `architectures` names: `BertForSequenceClassification` -> {@link EncoderForSequenceClassification},
 * `BertForMaskedLM` -> {@link EncoderForMaskedLM}. TF-era `gamma` / `beta` names load too.
 *
 * @example
 * ```ts
 * const classifier = await loadPretrainedEncoder('./bert-sst2');
 * ```
 */
export async function loadPretrainedEncoder(
  dir: string,
  options: LoadPretrainedOptions = {},
): Promise<Encoder | EncoderForSequenceClassification | EncoderForMaskedLM> {
  const json = await readConfig(dir);
  const { config, head, numLabels } = encoderConfigFromHuggingFace(json);
  if (options.maxPositions) config.blockSize = Math.min(config.blockSize, options.maxPositions);
  const model = withoutInit(() =>
    head === 'sequence-classification'
      ? new EncoderForSequenceClassification(config, numLabels)
      : head === 'masked-lm'
        ? new EncoderForMaskedLM(config)
        : new Encoder(config),
  );
  return fill(model, dir, options, (tensors, expected) => {
    let fileTensors = tensors;
    // a bare BertModel may be stored with or without the `bert.` prefix
    if (head === 'base' && Object.keys(tensors).some((k) => k.startsWith('bert.'))) {
      fileTensors = {};
      for (const [k, t] of Object.entries(tensors))
        if (k.startsWith('bert.')) fileTensors[k.slice(5)] = t;
    }
    if (options.maxPositions) {
      for (const key of Object.keys(fileTensors))
        if (
          key.endsWith('position_embeddings.weight') &&
          fileTensors[key].shape[0] > config.blockSize
        )
          fileTensors[key] = fileTensors[key].narrow(0, 0, config.blockSize);
    }
    const plan = bertKeyPlan(Object.keys(expected), Object.keys(fileTensors));
    // the MLM decoder is tied to the word embeddings; its bias duplicates cls.predictions.bias
    const ignore = (key: string) => /^cls\.(predictions\.decoder\.|seq_relationship\.)/.test(key);
    return applyKeyPlan(fileTensors, plan, expected, 'BERT', ignore);
  });
}
