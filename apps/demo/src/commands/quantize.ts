// `llmkit quantize`: quantizes a language-model run folder with @llmkit/quantize, prints bytes and
// validation loss / perplexity before and after, and writes the quantized model folder.
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ACTIVATIONS, QUANT_FORMATS, quantizeWithReport, saveQuantized } from '@llmkit/quantize';
import { chooseBackend } from '../backend.js';
import { CliError } from '../cli-error.js';
import { integerFlag, parseFlags } from '../flags.js';
import { openLanguageModel, trainingText } from '../run-folder.js';

export const QUANTIZE_HELP = `usage: llmkit quantize --checkpoint DIR --format FORMAT --out DIR [--group-size N]
                      [--embeddings] [--activations int8|float32] [--max-tokens N]
                      [--backend NAME] [--json]

Quantizes the Linear layers of a language model (a run folder of \`llmkit train\` or finetune)
and reports weight bytes and validation loss / perplexity before and after. llmkit sample and
llmkit eval open the folder it writes.
  --checkpoint DIR   the run folder
  --format FORMAT    int8, int4, nf4, q8_0 or q4_0 (also fp16, bf16)
  --group-size N     weights per scale for int4 (32, 64 or 128; default 32) and nf4 (default 64)
  --embeddings       quantize the embedding tables (wte, wpe) too; the tied head then reads
                     wte's packed rows (default: embeddings and head stay float)
  --activations A    int8: round each product's inputs to 8 bits per 32 values and multiply in
                     integers, as llama.cpp does (default for q8_0 and q4_0; int8 and int4
                     take it too); float32: multiply float inputs (default otherwise)
  --out DIR          the quantized model folder (config.json, quantization.json,
                     model.safetensors; loadQuantized of @llmkit/quantize opens it) plus run.json
  --max-tokens N     evaluate at most the first N validation tokens (default: all of them)
  --backend NAME     cpu (native, the default when it builds here), js (reference) or webgpu
  --json             print one JSON object instead of the table`;

/** `llmkit quantize`: returns the summary it printed. */
export async function quantize(args: string[]): Promise<Record<string, unknown> | undefined> {
  const { values } = parseFlags('quantize', args, {
    checkpoint: { type: 'string' },
    format: { type: 'string' },
    'group-size': { type: 'string' },
    embeddings: { type: 'boolean', default: false },
    activations: { type: 'string' },
    out: { type: 'string' },
    'max-tokens': { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  });
  if (values.help) {
    console.log(QUANTIZE_HELP);
    return undefined;
  }
  if (!values.checkpoint)
    throw new CliError('--checkpoint DIR is required (the --out folder of llmkit train)');
  if (!values.out) throw new CliError('--out DIR is required (where the quantized model goes)');
  const format = values.format as (typeof QUANT_FORMATS)[number];
  if (!QUANT_FORMATS.includes(format))
    throw new CliError(
      `--format ${values.format ?? '(missing)'}: expected one of ${QUANT_FORMATS.join(', ')}`,
    );
  const activations = values.activations as (typeof ACTIVATIONS)[number] | undefined;
  if (activations !== undefined && !ACTIVATIONS.includes(activations))
    throw new CliError(`--activations ${activations}: expected one of ${ACTIVATIONS.join(', ')}`);
  const groupSize =
    values['group-size'] === undefined
      ? undefined
      : integerFlag('group-size', values['group-size'], 2);
  const maxTokens =
    values['max-tokens'] === undefined
      ? Infinity
      : integerFlag('max-tokens', values['max-tokens'], 2);
  await chooseBackend(values.backend);
  const dir = resolve(values.checkpoint);
  const { run, model, tokenizer } = await openLanguageModel(dir);
  // The validation split, as llmkit eval takes it: the last 10% of the training text.
  const characters = [...trainingText(dir, run)];
  const tokens = tokenizer
    .encode(characters.slice(Math.floor(characters.length * 0.9)).join(''))
    .slice(0, maxTokens);
  const report = quantizeWithReport(
    model,
    {
      format,
      ...(groupSize ? { groupSize } : {}),
      ...(activations ? { activations } : {}),
      embeddings: values.embeddings,
    },
    { tokens, batchSize: 16 },
  );
  const out = resolve(values.out);
  await saveQuantized(model, out);
  if (existsSync(join(dir, 'run.json')))
    writeFileSync(join(out, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
  const summary = {
    format,
    layers: report.quantization.layers.length,
    embeddings: values.embeddings,
    activations: report.quantization.options.activations,
    weightBytesBefore: report.bytesBefore,
    weightBytesAfter: report.bytesAfter,
    layerBytesBefore: report.layerBytesBefore,
    layerBytesAfter: report.layerBytesAfter,
    lossBefore: +(report.lossBefore as number).toFixed(4),
    lossAfter: +(report.lossAfter as number).toFixed(4),
    perplexityBefore: +(report.perplexityBefore as number).toFixed(4),
    perplexityAfter: +(report.perplexityAfter as number).toFixed(4),
    perplexityChangePercent: +(report.perplexityChangePercent as number).toFixed(3),
    tokens: tokens.length,
    out,
  };
  if (values.json) console.log(JSON.stringify(summary));
  else {
    const mb = (b: number) => `${(b / 2 ** 20).toFixed(3)} MiB`;
    console.log(
      `quantized ${summary.layers} layers to ${format} (${summary.activations} activations): weights ${mb(summary.weightBytesBefore)} -> ${mb(summary.weightBytesAfter)} (layers ${mb(summary.layerBytesBefore)} -> ${mb(summary.layerBytesAfter)})`,
    );
    console.log(
      `validation (${tokens.length} tokens): loss ${summary.lossBefore} -> ${summary.lossAfter}, perplexity ${summary.perplexityBefore} -> ${summary.perplexityAfter} (${summary.perplexityChangePercent >= 0 ? '+' : ''}${summary.perplexityChangePercent}%)`,
    );
    console.log(`wrote ${out}`);
  }
  return summary;
}
