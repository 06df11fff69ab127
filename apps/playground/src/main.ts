// The playground's shell: picks the backend (webgpu where navigator.gpu gives an adapter, js
// otherwise, and says which), then shows one view at a time. Any error a view throws is shown
// in the page instead of leaving it blank.
import { getBackend, setBackend } from '@llmkit/core-tensor';
import { registerBackend } from '@llmkit/core-tensor/backend';
import { mountAttention } from './views/attention.js';
import { mountGap } from './views/gap.js';
import { mountGenerate } from './views/generate.js';
import { mountRetrieve } from './views/retrieve.js';
import { mountTokenizer } from './views/tokenizer.js';
import { mountTrain } from './views/train.js';

const VIEWS: [string, string, (root: HTMLElement) => void | Promise<void>][] = [
  ['tokenizer', 'Tokenizer', mountTokenizer],
  ['generate', 'Generate', mountGenerate],
  ['attention', 'Attention', mountAttention],
  ['train', 'Train', mountTrain],
  ['retrieve', 'Retrieve', mountRetrieve],
  ['later', 'Fine-tune · Quantize · Align', mountGap],
];

/** Shows an error in the page (never a blank screen). */
export function showError(error: unknown): void {
  const box = document.getElementById('error')!;
  box.hidden = false;
  box.textContent = `Something went wrong: ${(error as Error)?.message ?? String(error)}`;
}
window.addEventListener('error', (event) => showError(event.error ?? event.message));
window.addEventListener('unhandledrejection', (event) => showError(event.reason));

async function chooseBackend(): Promise<string> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (gpu) {
    try {
      if (await gpu.requestAdapter()) {
        const { createWebGpuBackend } = await import('@llmkit/backend-gpu');
        const backend = await createWebGpuBackend();
        registerBackend('webgpu', () => backend, 30);
        await setBackend('webgpu');
        return 'webgpu (navigator.gpu)';
      }
    } catch {
      // fall through to js
    }
  }
  await setBackend('js');
  return `js (${gpu ? 'navigator.gpu has no adapter here' : 'no navigator.gpu in this browser'})`;
}

async function start(): Promise<void> {
  const badge = document.getElementById('backend')!;
  badge.textContent = `backend: ${await chooseBackend()}`;
  badge.dataset.backend = getBackend().name;
  const tabs = document.getElementById('tabs')!;
  const view = document.getElementById('view')!;
  const open = async (id: string) => {
    for (const b of tabs.querySelectorAll('button'))
      b.setAttribute('aria-selected', String(b.dataset.view === id));
    view.replaceChildren();
    view.dataset.view = id;
    const [, , mount] = VIEWS.find(([v]) => v === id)!;
    try {
      await mount(view);
    } catch (error) {
      showError(error);
    }
  };
  for (const [id, title] of VIEWS) {
    const button = document.createElement('button');
    button.textContent = title;
    button.dataset.view = id;
    button.addEventListener('click', () => void open(id));
    tabs.append(button);
  }
  await open(location.hash.slice(1) || 'tokenizer');
}

start().catch(showError);
