// GGUF export of a quantized GPT-2-architecture model for llama.cpp: layers quantized to q8_0 or
// q4_0 are written as llama.cpp's Q8_0 / Q4_0 tensors, byte for byte the blocks llmkit computes
// with (the same bytes llama.cpp's reference quantizer makes); quantized embedding tables (wte,
// wpe) likewise, float ones, norms and biases f32, as llama.cpp's converter keeps 1-D tensors. A
// head tied to a quantized wte is not written again: llama.cpp's loader reads token_embd for the
// head when output.weight is absent; a quantized copy of a tied head (`lmHead`) is its own tensor. Built on @llmkit/transformer's exportGguf, which handles the gpt2
// layout, metadata and tokenizer.
import { init, noGrad, withoutInit } from '@llmkit/core-tensor';
import { GPT } from '@llmkit/transformer';
import { type ExportGgufOptions, exportGguf } from '@llmkit/transformer/gguf';
import { QuantizedEmbedding } from './embedding.js';
import { QuantizeError } from './errors.js';
import { quantizedEmbeddings, quantizedLayers } from './model.js';

/** llama.cpp's ggml type ids and file types of the two block formats. */
const GGML = { q8_0: { type: 8, fileType: 7 }, q4_0: { type: 2, fileType: 2 } } as const;

/** Options of {@link exportQuantizedGguf}: exportGguf's, without `dtype` (matrices keep their format). */
export type ExportQuantizedGgufOptions = Omit<ExportGgufOptions, 'dtype' | 'tensors' | 'fileType'>;

/**
 * Writes a GPT whose layers (and tables, quantized with `embeddings: true`) are q8_0 or q4_0 as a
 * GGUF file (atomically). Layers in another format are an `unsupported` error naming them; float
 * layers and tables (skipped ones) are written as f32.
 *
 * @example
 * ```ts
 * quantizeModel(model, { format: 'q8_0', embeddings: true }); // the tied head follows wte
 * await exportQuantizedGguf(model, 'model-q8_0.gguf', { tokenizer: getEncoding('gpt2') });
 * ```
 */
export async function exportQuantizedGguf(
  model: GPT,
  path: string,
  options: ExportQuantizedGgufOptions,
): Promise<void> {
  const layers = [...quantizedLayers(model), ...quantizedEmbeddings(model)];
  if (layers.length === 0)
    throw new QuantizeError(
      'invalid_argument',
      'exportQuantizedGguf: the model has no quantized layer; quantize it with { format: "q8_0" } or "q4_0" first (float models export with exportGguf)',
    );
  const tensors: Record<string, { type: number; shape: number[]; data: Uint8Array }> = {};
  const counts = { q8_0: 0, q4_0: 0 };
  for (const [name, layer] of layers) {
    const format = layer.options.format;
    if (format !== 'q8_0' && format !== 'q4_0')
      throw new QuantizeError(
        'unsupported',
        `exportQuantizedGguf: ${layer instanceof QuantizedEmbedding ? 'embedding' : 'layer'} '${name}' is '${format}'; GGUF export writes 'q8_0' or 'q4_0' layers (llama.cpp's Q8_0 / Q4_0)`,
      );
    counts[format]++;
    const packed = await layer.quantizedWeight();
    const bytes = packed.parts.weight as Uint8Array;
    tensors[`${name}.weight`] = {
      type: GGML[format].type,
      shape: [...packed.shape],
      data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    };
  }
  const main = counts.q4_0 > counts.q8_0 ? 'q4_0' : 'q8_0';
  await exportGguf(model, path, { ...options, tensors, fileType: GGML[main].fileType });
}

/** What exportGguf reads of its `tokenizer`: the byte-level vocabulary (ranks) and special tokens. */
export type GgufTokenizer = ExportGgufOptions['tokenizer'];

/**
 * A GGUF vocabulary for a character-level model (the char tokenizer of `llmkit train`): token id i
 * is `chars[i]`, written as llama.cpp's byte-level BPE (`tokenizer.ggml.model` "gpt2") reads
 * tokens: the character's UTF-8 bytes in GPT-2's byte-to-unicode alphabet (`'\n'` is `Ċ`, `' '`
 * is `Ġ`) and no special tokens; the merge list is empty but for the multi-byte characters
 * (exportGguf gives `é`, bytes `Ã` `©`, the merge `Ã ©`).
 * llama.cpp loads it; feed it token ids (its own tokenizer splits text its way). Pass it as
 * {@link exportQuantizedGguf}'s `tokenizer`; `eosTokenId` defaults to the last character.
 *
 * @example
 * ```ts
 * const run = JSON.parse(readFileSync('runs/shakespeare-char/run.json', 'utf8'));
 * await exportQuantizedGguf(gpt2Layout(model), 'model.gguf', { tokenizer: characterVocabulary(run.tokenizer.chars) });
 * ```
 */
export function characterVocabulary(chars: readonly string[]): GgufTokenizer {
  const bytes = new TextEncoder();
  const ranks = new Map<string, number>();
  chars.forEach((char, id) => {
    if (typeof char !== 'string' || [...char].length !== 1)
      throw new QuantizeError(
        'invalid_argument',
        `characterVocabulary: chars[${id}] is ${JSON.stringify(char)}; expected one character`,
      );
    const binary = String.fromCharCode(...bytes.encode(char));
    if (ranks.has(binary))
      throw new QuantizeError(
        'invalid_argument',
        `characterVocabulary: chars[${id}] ${JSON.stringify(char)} repeats chars[${ranks.get(binary)}]`,
      );
    ranks.set(binary, id);
  });
  // exportGguf reads these three members of an Encoding (a char vocabulary lacks the other 191 of
  // the 256 byte tokens an Encoding must have, so it cannot be one).
  return {
    vocabSize: chars.length,
    specialTokens: {},
    mergeableRanks: () => ranks,
  } as unknown as GgufTokenizer;
}

/**
 * The same model in GPT-2's exact layout, which llama.cpp's `gpt2` architecture (and
 * exportGguf) needs: zero biases where the model has none (exact: LayerNorm and Linear without a
 * bias are the ones with a zero bias) and GPT-2's tanh GELU for an erf GELU (the two differ by
 * at most 4.8e-4 per activation). A new float GPT; the model itself is unchanged. `llmkit train`'s
 * presets (`bias: false`, `activation: 'gelu'`) export to GGUF through it.
 *
 * @example
 * ```ts
 * const gpt2 = gpt2Layout(await load('runs/shakespeare-char'));
 * quantizeModel(gpt2, { format: 'q8_0', embeddings: true });
 * ```
 */
export function gpt2Layout(model: GPT): GPT {
  const c = model.config;
  if (c.activation !== 'gelu' && c.activation !== 'gelu-tanh')
    throw new QuantizeError(
      'unsupported',
      `gpt2Layout: activation '${c.activation}' has no GPT-2 equivalent; expected 'gelu' or 'gelu-tanh'`,
    );
  if (quantizedLayers(model).length || quantizedEmbeddings(model).length)
    throw new QuantizeError(
      'invalid_argument',
      'gpt2Layout: the model is quantized; convert the float model, then quantize the result',
    );
  const { bias: _bias, qkvBias: _qkvBias, activation: _activation, ...rest } = model.config;
  const out = withoutInit(() => new GPT({ ...rest, bias: true, activation: 'gelu-tanh' }));
  noGrad(() => {
    for (const t of out.parameters()) init.zeros(t); // the biases the model lacks stay zero
    const result = out.loadStateDict(model.stateDict(), { strict: false });
    if (result.unexpected.length || result.mismatched.length)
      throw new QuantizeError(
        'invalid_argument',
        `gpt2Layout: the model's tensors do not fit GPT-2's layout: ${[...result.unexpected, ...result.mismatched].join(', ')}`,
      );
  });
  return out.train(model.training);
}
