// GGUF export of a quantized GPT-2-architecture model for llama.cpp: layers quantized to q8_0 or
// q4_0 are written as llama.cpp's Q8_0 / Q4_0 tensors, byte for byte the blocks llmkit computes
// with (the same bytes llama.cpp's reference quantizer makes); embeddings, norms and biases stay
// f32, as llama.cpp's converter keeps 1-D tensors. Built on @llmkit/transformer's exportGguf,
// which handles the gpt2 layout, metadata and tokenizer.
import type { GPT } from '@llmkit/transformer';
import { type ExportGgufOptions, exportGguf } from '@llmkit/transformer/gguf';
import { QuantizeError } from './errors.js';
import { quantizedLayers } from './model.js';

/** llama.cpp's ggml type ids and file types of the two block formats. */
const GGML = { q8_0: { type: 8, fileType: 7 }, q4_0: { type: 2, fileType: 2 } } as const;

/** Options of {@link exportQuantizedGguf}: exportGguf's, without `dtype` (matrices keep their format). */
export type ExportQuantizedGgufOptions = Omit<ExportGgufOptions, 'dtype' | 'tensors' | 'fileType'>;

/**
 * Writes a GPT whose layers are q8_0 or q4_0 as a GGUF file (atomically). Layers in another format
 * are an `unsupported` error naming them; float layers (skipped ones) are written as f32.
 *
 * @example
 * ```ts
 * quantizeModel(model, { format: 'q8_0', lmHead: true });
 * await exportQuantizedGguf(model, 'model-q8_0.gguf', { tokenizer: getEncoding('gpt2') });
 * ```
 */
export async function exportQuantizedGguf(
  model: GPT,
  path: string,
  options: ExportQuantizedGgufOptions,
): Promise<void> {
  const layers = quantizedLayers(model);
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
        `exportQuantizedGguf: layer '${name}' is '${format}'; GGUF export writes 'q8_0' or 'q4_0' layers (llama.cpp's Q8_0 / Q4_0)`,
      );
    counts[format]++;
    const packed = await layer.quantizedWeight();
    const bytes = packed.parts.weight as Uint8Array;
    tensors[`${name}.weight`] = {
      type: GGML[format].type,
      shape: [layer.outFeatures, layer.inFeatures],
      data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    };
  }
  const main = counts.q4_0 > counts.q8_0 ? 'q4_0' : 'q8_0';
  await exportGguf(model, path, { ...options, tensors, fileType: GGML[main].fileType });
}
