// Train view: a char-level GPT trains in a Worker (the page stays responsive) on pasted or
// bundled text, with a live loss curve, stop / resume, then a sample from it.
import { h, textProblem } from '../dom.js';

/** The training worker of the mounted view (opening the tab again ends the previous one). */
let current: Worker | null = null;

export function mountTrain(root: HTMLElement): void {
  const text = h('textarea', { id: 'train-text', rows: '8' });
  const start = h('button', { id: 'train-start' }, 'Train');
  const stop = h('button', { id: 'train-stop' }, 'Stop');
  const sample = h('button', { id: 'train-sample' }, 'Sample');
  const steps = h('input', {
    id: 'train-steps',
    type: 'number',
    value: '300',
    min: '1',
    max: '5000',
  });
  const status = h('p', { id: 'train-status' }, 'not started');
  const message = h('p', { id: 'train-message', class: 'message' });
  const canvas = h('canvas', { id: 'loss-canvas', width: '600', height: '200' });
  const output = h('div', { id: 'train-sample-output', class: 'output' });
  root.append(
    h(
      'p',
      {},
      'Paste text (or keep the Shakespeare excerpt) and train a 2-layer character-level GPT in a Web Worker.',
    ),
    text,
    h('div', { class: 'row' }, start, stop, sample, h('label', {}, 'steps ', steps)),
    message,
    status,
    canvas,
    output,
  );
  void fetch(new URL('shakespeare.txt', document.baseURI))
    .then((r) => r.text())
    .then((t) => {
      if (!text.value) text.value = t;
    });
  const losses: number[] = [];
  current?.terminate();
  const worker = new Worker(new URL('../train-worker.ts', import.meta.url), { type: 'module' });
  current = worker;
  const draw = () => {
    const context = canvas.getContext('2d')!;
    context.clearRect(0, 0, canvas.width, canvas.height);
    if (losses.length < 2) return;
    const max = Math.max(...losses);
    const min = Math.min(...losses);
    context.beginPath();
    losses.forEach((loss, i) => {
      const x = (i / (losses.length - 1)) * canvas.width;
      const y = canvas.height - ((loss - min) / (max - min || 1)) * (canvas.height - 10) - 5;
      if (i === 0) context.moveTo(x, y);
      else context.lineTo(x, y);
    });
    context.strokeStyle = '#4456d8';
    context.stroke();
  };
  worker.onmessage = (event) => {
    const m = event.data;
    if (m.type === 'step') {
      losses.push(m.loss);
      status.textContent = `step ${m.step}, loss ${m.loss.toFixed(3)}`;
      status.dataset.step = String(m.step);
      status.dataset.first = String(losses[0]);
      status.dataset.last = String(m.loss);
      draw();
    } else if (m.type === 'stopped') status.textContent += ' (stopped)';
    else if (m.type === 'sample') output.textContent = m.text;
    else if (m.type === 'error') message.textContent = m.message;
  };
  start.addEventListener('click', () => {
    const problem = textProblem(text.value);
    message.textContent = problem ?? '';
    if (problem) return;
    worker.postMessage({ type: 'start', text: text.value, steps: Number(steps.value) });
  });
  stop.addEventListener('click', () => worker.postMessage({ type: 'stop' }));
  sample.addEventListener('click', () => worker.postMessage({ type: 'sample', length: 120 }));
}
