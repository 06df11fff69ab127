// The real-models bench's tables. Ratios read the same way everywhere: speed ratios are llmkit's
// speed over the peer's (above 1: llmkit faster), load-time and memory ratios llmkit's over the
// peer's (below 1: llmkit quicker or smaller).
const fixed = (x, digits = 1) =>
  typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '-';
const ratio = (a, b) =>
  typeof a === 'number' && typeof b === 'number' && b > 0 ? `${(a / b).toFixed(2)}x` : '-';

/** One engine's cells of an inference row (or the reason it has none). */
function cells(r) {
  if (!r || r.error || r.skipped)
    return [`${r?.error ? 'failed' : 'skipped'}: ${r?.error ?? r?.skipped ?? ''}`, ...'------'];
  return [
    fixed(r.loadSeconds, 1),
    fixed(r.afterLoad.rssMb, 0),
    fixed(r.end.peakMb, 0),
    fixed(r.shortMs, 0),
    fixed(r.longMs, 0),
    fixed(r.decodeTokensPerSecond, 2),
    fixed(r.loadAverage, 1),
  ];
}

/** The inference table: one row per model, format, thread count and engine. */
export function printInference(rows, sizes) {
  console.log(
    `\nInference: batch 1; prefill of ${sizes.short} and ${sizes.long} prompt tokens; decode tokens/s over ${sizes.newTokens} greedy tokens after a ${sizes.decode}-token prompt (token ids fed to both engines)`,
  );
  console.log(
    `| model | format | threads | engine | weights held as | load s | RSS after load MiB | peak RSS MiB | prefill ${sizes.short} ms | prefill ${sizes.long} ms | decode tok/s | load avg | llmkit / llama.cpp: load time, peak RSS, prefill ${sizes.short} speed, prefill ${sizes.long} speed, decode speed | same greedy ids |`,
  );
  console.log(
    '| --- | --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
  );
  for (const row of rows) {
    const a = row.llmkit;
    const b = row.llamaCpp;
    const both = !a.error && !b.error && !b.skipped;
    const ratios = both
      ? [
          ratio(a.loadSeconds, b.loadSeconds),
          ratio(a.end.peakMb, b.end.peakMb),
          ratio(b.shortMs, a.shortMs),
          ratio(b.longMs, a.longMs),
          ratio(a.decodeTokensPerSecond, b.decodeTokensPerSecond),
        ].join(', ')
      : '';
    const same =
      row.sameGreedyIds === undefined ? '' : `${row.sameGreedyIds} of ${sizes.newTokens}`;
    const held = a.weightDtype
      ? `${a.weightDtype}${a.quantizeSeconds ? ` + ${row.format} (quantized in ${fixed(a.quantizeSeconds)} s)` : ''}`
      : '';
    console.log(
      `| ${row.model} | ${row.format} | ${row.threads} | llmkit | ${held} | ${cells(a).join(' | ')} | ${ratios} | ${same} |`,
    );
    console.log(`| | | | llama.cpp | ${row.format} GGUF, mmap | ${cells(b).join(' | ')} | | |`);
  }
}

/** The LoRA table: one row per model and engine. */
export function printLora(rows) {
  console.log(
    '\nLoRA step: r 8, alpha 16, AdamW on the adapter only, float32 weights; ms per step is the median after one warm-up step',
  );
  console.log(
    '| model | engine | adapted | trainable | batch | threads | first loss | ms / step | peak RSS MiB | load avg | llmkit / PyTorch: speed, peak RSS |',
  );
  console.log('| --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const row of rows) {
    const shape = `${row.batch} x ${row.sequence}`;
    const a = row.llmkit;
    const b = row.pytorch;
    const line = (engine, r, ratios) =>
      r.error || r.skipped
        ? `| ${row.model} | ${engine} | ${r.error ? `failed: ${r.error}` : `skipped: ${r.skipped}`} | | ${shape} | ${row.threads} | | | | | |`
        : `| ${row.model} | ${engine} | ${r.target} | ${r.trainable} | ${shape} | ${row.threads} | ${fixed(r.losses[0], 5)} | ${fixed(r.msPerStep, 0)} | ${fixed(r.peakMb, 0)} | ${fixed(r.loadAverage, 1)} | ${ratios} |`;
    const both = !a.error && !b.error && !b.skipped;
    console.log(
      line(
        'llmkit',
        a,
        both ? `${ratio(b.msPerStep, a.msPerStep)}, ${ratio(a.peakMb, b.peakMb)}` : '',
      ),
    );
    console.log(line(`PyTorch ${b.torch ?? ''}`.trim(), b, ''));
    if (both)
      console.log(
        `|  | first losses differ by ${Math.abs(a.losses[0] - b.losses[0]).toExponential(2)} | | | | | | | | | |`,
      );
  }
}
