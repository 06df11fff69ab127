// Attention view: per layer and head, the attention weights of the bundled model on the text,
// as a heatmap (row: the position attending; column: the position attended to).
import { h, textProblem } from '../dom.js';
import { bundledModel } from '../model.js';

export async function mountAttention(root: HTMLElement): Promise<void> {
  const input = h('input', { id: 'att-input', size: '60' });
  input.value = 'To be, or not to be';
  const layer = h('select', { id: 'att-layer' });
  const head = h('select', { id: 'att-head' });
  const message = h('p', { id: 'att-message', class: 'message' });
  const canvas = h('canvas', { id: 'att-canvas', width: '480', height: '480' });
  root.append(
    h(
      'p',
      {},
      'Each square is how much the row character attends to the column character (causal: only earlier ones).',
    ),
    h(
      'div',
      { class: 'row' },
      input,
      h('label', {}, 'layer ', layer),
      h('label', {}, 'head ', head),
    ),
    message,
    canvas,
  );
  const { model, tokenizer } = await bundledModel();
  for (let l = 0; l < model.config.nLayer; l++)
    layer.append(h('option', { value: String(l) }, String(l)));
  for (let k = 0; k < model.config.nHead; k++)
    head.append(h('option', { value: String(k) }, String(k)));
  const draw = async () => {
    const problem = textProblem(input.value);
    let ids: number[] = [];
    try {
      if (problem) throw new Error(problem);
      ids = tokenizer.encode(input.value).slice(0, model.config.blockSize);
      message.textContent = '';
    } catch (error) {
      message.textContent = (error as Error).message;
      return;
    }
    const { attentions, logits } = model.forward([ids], { returnAttention: true });
    logits.dispose();
    const weights = await attentions![Number(layer.value)].data<Float32Array>();
    for (const a of attentions!) a.dispose();
    const T = ids.length;
    const H = model.config.nHead;
    const k = Number(head.value);
    const context = canvas.getContext('2d')!;
    const cell = Math.floor(canvas.width / T);
    context.clearRect(0, 0, canvas.width, canvas.height);
    let sum = 0;
    for (let i = 0; i < T; i++)
      for (let j = 0; j < T; j++) {
        const w = weights[((0 * H + k) * T + i) * T + j];
        sum += w;
        context.fillStyle = `rgba(68, 86, 216, ${w})`;
        context.fillRect(j * cell, i * cell, cell, cell);
      }
    canvas.dataset.tokens = String(T);
    canvas.dataset.rowSum = (sum / T).toFixed(3);
    canvas.dataset.upper = String(weights[((0 * H + k) * T + 0) * T + (T - 1)]);
  };
  input.addEventListener('input', () => void draw());
  layer.addEventListener('change', () => void draw());
  head.addEventListener('change', () => void draw());
  await draw();
}
