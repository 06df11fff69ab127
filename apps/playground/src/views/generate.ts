// Generate view: the bundled model continues a prompt, streaming, with the sampling controls of
// @llmkit/sampling; bars show the next-token distribution before the processors (softmax of the
// raw logits) and after them (what the sampler draws from) at the current step.
import { createSampler } from '@llmkit/sampling';
import { h, slider, textProblem } from '../dom.js';
import { bundledModel } from '../model.js';

function bars(target: HTMLElement, entries: [string, number][]): void {
  target.replaceChildren(
    ...entries.flatMap(([token, p]) => {
      const bar = h('div', { class: 'bar' });
      bar.style.width = `${(p * 100).toFixed(1)}%`;
      return [
        h('span', {}, JSON.stringify(token)),
        h('div', {}, bar),
        h('span', { class: 'p' }, p.toFixed(3)),
      ];
    }),
  );
  target.dataset.top = entries.map(([t, p]) => `${t}:${p.toFixed(4)}`).join('|');
}

export async function mountGenerate(root: HTMLElement): Promise<void> {
  const prompt = h('textarea', { id: 'gen-prompt', rows: '3' });
  prompt.value = 'ROMEO:\n';
  const sliders = [
    slider('temperature', 'temperature', 0, 2, 0.05, 0.8),
    slider('top-k', 'top-k (0: off)', 0, 65, 1, 0),
    slider('top-p', 'top-p', 0.05, 1, 0.05, 1),
    slider('min-p', 'min-p', 0, 0.5, 0.01, 0),
    slider('repetition-penalty', 'repetition penalty', 1, 2, 0.05, 1),
    slider('max-new-tokens', 'max new tokens', 1, 400, 1, 120),
  ];
  const button = h('button', { id: 'generate' }, 'Generate');
  const stop = h('button', { id: 'gen-stop' }, 'Stop');
  const message = h('p', { id: 'gen-message', class: 'message' });
  const output = h('div', { id: 'gen-output', class: 'output' });
  const before = h('div', { id: 'probs-before', class: 'bars' });
  const after = h('div', { id: 'probs-after', class: 'bars' });
  root.append(
    h(
      'p',
      {},
      'A 0.8M-parameter character-level GPT trained on Tiny Shakespeare, running in this page.',
    ),
    prompt,
    ...sliders,
    h('div', { class: 'row' }, button, stop),
    message,
    output,
    h(
      'div',
      { class: 'row' },
      h('div', {}, h('h3', {}, 'next token: raw softmax'), before),
      h('div', {}, h('h3', {}, 'after the processors'), after),
    ),
  );
  const value = (id: string) => Number((root.querySelector(`#${id}`) as HTMLInputElement).value);
  const { model, tokenizer } = await bundledModel();
  let stopped = false;
  stop.addEventListener('click', () => {
    stopped = true;
  });
  const showStep = async (ids: number[], history: number[]) => {
    const logits = await model.nextTokenLogits(
      [ids.slice(-model.config.blockSize)],
      [ids.slice(-model.config.blockSize).map(() => 1)],
    );
    const temperature = value('temperature');
    const sampler = createSampler(
      temperature === 0
        ? { repetitionPenalty: value('repetition-penalty') }
        : {
            doSample: true,
            temperature,
            topK: value('top-k'),
            topP: value('top-p'),
            minP: value('min-p'),
            repetitionPenalty: value('repetition-penalty'),
            seed: 1,
          },
    );
    // raw: softmax of the logits
    let max = -Infinity;
    for (const l of logits) max = Math.max(max, l);
    let total = 0;
    for (const l of logits) total += Math.exp(l - max);
    const raw: [string, number][] = [];
    for (let id = 0; id < logits.length; id++)
      raw.push([tokenizer.decode([id]), Math.exp(logits[id] - max) / total]);
    raw.sort((a, b) => b[1] - a[1]);
    raw.length = Math.min(raw.length, 8);
    bars(before, raw);
    const { tokenIds, probabilities } = sampler.distribution(logits, history);
    const warped: [string, number][] = Array.from(
      tokenIds,
      (id, i) => [tokenizer.decode([id]), probabilities[i]] as [string, number],
    );
    warped.sort((a, b) => b[1] - a[1]);
    warped.length = Math.min(warped.length, 8);
    bars(after, warped);
    return { logits, sampler };
  };
  const run = async () => {
    const problem = textProblem(prompt.value);
    message.textContent = '';
    let ids: number[];
    try {
      if (problem) throw new Error(problem);
      ids = tokenizer.encode(prompt.value);
    } catch (error) {
      message.textContent = (error as Error).message;
      return;
    }
    stopped = false;
    button.disabled = true;
    output.textContent = prompt.value;
    const generated: number[] = [];
    try {
      for (let i = 0; i < value('max-new-tokens') && !stopped; i++) {
        const { logits, sampler } = await showStep(ids, ids);
        const next = sampler.sample(logits, ids);
        ids = [...ids, next];
        generated.push(next);
        output.textContent += tokenizer.decode([next]);
        await new Promise((resolve) => setTimeout(resolve, 0)); // let the page paint
      }
      output.dataset.generated = String(generated.length);
    } finally {
      button.disabled = false;
    }
  };
  button.addEventListener('click', () => void run());
  // moving a slider redraws the bars for the current text
  for (const s of sliders)
    s.querySelector('input')!.addEventListener('input', () => {
      const ids = tokenizer.encode(output.textContent || prompt.value);
      void showStep(ids, ids);
    });
  const ids = tokenizer.encode(prompt.value);
  await showStep(ids, ids);
}
