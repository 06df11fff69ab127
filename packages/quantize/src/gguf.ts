// GGUF export of a quantized GPT-2-architecture model for llama.cpp: layers quantized to q8_0 or
// q4_0 are written as llama.cpp's Q8_0 / Q4_0 tensors, byte for byte the blocks llmkit computes
// with (the same bytes llama.cpp's reference quantizer makes); quantized embedding tables (wte,
// wpe) likewise, float ones, norms and biases f32, as llama.cpp's converter keeps 1-D tensors. A
// head tied to a quantized wte is written as `output.weight` with wte's blocks (llama.cpp reads
// the head from `output`). Built on @llmkit/transformer's exportGguf, which handles the gpt2
// layout, metadata and tokenizer.
import type { GPT } from '@llmkit/transformer';
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
  if (model.lm_head === null && tensors['wte.weight'])
    tensors['lm_head.weight'] = tensors['wte.weight']; // the tied head, from the same blocks
  const main = counts.q4_0 > counts.q8_0 ? 'q4_0' : 'q8_0';
  await exportGguf(model, path, { ...options, tensors, fileType: GGML[main].fileType });
}
