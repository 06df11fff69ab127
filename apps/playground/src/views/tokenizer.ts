// Tokenizer view: token boundaries coloured, ids, and the count under each OpenAI encoding.
import { type EncodingName, loadEncoding } from '@llmkit/tokenizer';
import { h, textProblem, tokenColour } from '../dom.js';

const ENCODINGS: EncodingName[] = ['gpt2', 'cl100k_base', 'o200k_base'];

export async function mountTokenizer(root: HTMLElement): Promise<void> {
  const input = h('textarea', { id: 'tok-input', rows: '5' });
  input.value = 'Tokenizers split text into pieces: "unbelievable" → un|believ|able. 東京 👋';
  const select = h(
    'select',
    { id: 'tok-encoding' },
    ...ENCODINGS.map((e) => h('option', { value: e }, e)),
  );
  select.value = 'cl100k_base';
  const file = h('input', { id: 'tok-file', type: 'file' });
  const message = h('p', { id: 'tok-message', class: 'message' });
  const count = h('p', { id: 'tok-count' });
  const tokens = h('div', { id: 'tok-tokens', class: 'tokens' });
  const ids = h('p', { id: 'tok-ids', class: 'output' });
  const counts = h('table', { id: 'tok-counts' });
  root.append(
    h(
      'p',
      {},
      'Type text to see how each encoding cuts it into tokens (ids identical to tiktoken).',
    ),
    input,
    h(
      'div',
      { class: 'row' },
      h('label', {}, 'encoding ', select),
      h('label', {}, 'or open a text file ', file),
    ),
    message,
    count,
    tokens,
    ids,
    counts,
  );
  const encodings = Object.fromEntries(
    await Promise.all(ENCODINGS.map(async (e) => [e, await loadEncoding(e)] as const)),
  );
  const render = () => {
    const text = input.value;
    const problem = textProblem(text);
    message.textContent = problem ?? '';
    if (problem) {
      count.textContent = '';
      tokens.replaceChildren();
      ids.textContent = '';
      counts.replaceChildren();
      return;
    }
    const encoding = encodings[select.value as EncodingName];
    const tokenIds = encoding.encode(text, { allowedSpecial: 'all' });
    count.textContent = `${tokenIds.length} tokens, ${[...text].length} characters (${select.value})`;
    count.dataset.count = String(tokenIds.length);
    // show at most 2,000 tokens; the counts cover the whole text
    const shown = tokenIds.slice(0, 2000);
    tokens.replaceChildren(
      ...shown.map((id, i) => {
        const span = h('span', { title: `id ${id}` }, encoding.decode([id]));
        span.style.background = tokenColour(i);
        return span;
      }),
    );
    ids.textContent = `[${shown.join(', ')}${tokenIds.length > shown.length ? ', …' : ''}]`;
    counts.replaceChildren(
      h('tr', {}, h('th', {}, 'encoding'), h('th', {}, 'tokens')),
      ...ENCODINGS.map((e) =>
        h(
          'tr',
          { 'data-encoding': e },
          h('td', {}, e),
          h('td', {}, String(encodings[e].encode(text, { allowedSpecial: 'all' }).length)),
        ),
      ),
    );
  };
  input.addEventListener('input', render);
  select.addEventListener('change', render);
  file.addEventListener('change', async () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    if (chosen.size > 4 * 200_000) {
      message.textContent = `${chosen.name} is ${chosen.size.toLocaleString('en')} bytes; the playground takes up to 200,000 characters.`;
      return;
    }
    const bytes = new Uint8Array(await chosen.arrayBuffer());
    const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    input.value = text;
    render();
  });
  render();
}
