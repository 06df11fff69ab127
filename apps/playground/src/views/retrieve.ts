// Retrieve view: index pasted or bundled Markdown with BM25 (@llmkit/rag), ask a question, and
// see a grounded answer whose numbered citations are highlighted in their sources. The "model"
// here is extractive (the best-matching sentence of each source), so the view shows retrieval
// and citation without a large language model in the page.
import { answer, createBm25Index, createMarkdownSplitter } from '@llmkit/rag';
import { loadEncoding } from '@llmkit/tokenizer';
import { h, textProblem } from '../dom.js';

const words = (text: string) => new Set(text.toLowerCase().match(/\p{L}+/gu) ?? []);

/** The sentence of `text` sharing the most words with `question`. */
function bestSentence(text: string, question: string): string {
  const asked = words(question);
  let best = '';
  let score = -1;
  for (const sentence of text.split(/(?<=[.!?])\s+|\n+/)) {
    const s = [...words(sentence)].filter((w) => asked.has(w)).length;
    if (s > score && sentence.trim()) [best, score] = [sentence.trim(), s];
  }
  return best;
}

export async function mountRetrieve(root: HTMLElement): Promise<void> {
  const docs = h('textarea', { id: 'rag-docs', rows: '10' });
  const index = h('button', { id: 'rag-index' }, 'Index');
  const question = h('input', { id: 'rag-question', size: '60' });
  question.value = 'How does BM25 rank documents?';
  const ask = h('button', { id: 'rag-ask' }, 'Ask');
  const message = h('p', { id: 'rag-message', class: 'message' });
  const status = h('p', { id: 'rag-status' });
  const result = h('div', { id: 'rag-answer', class: 'output' });
  const sources = h('div', { id: 'rag-sources' });
  root.append(
    h('p', {}, 'Paste Markdown (or keep the notes below), index it with BM25, and ask.'),
    docs,
    h('div', { class: 'row' }, index),
    status,
    h('div', { class: 'row' }, question, ask),
    message,
    result,
    sources,
  );
  docs.value = await fetch(new URL('notes.md', document.baseURI)).then((r) => r.text());
  const tokenizer = await loadEncoding('cl100k_base');
  let chunks: { text: string; sourceId: string; start: number; end: number }[] = [];
  let bm25 = createBm25Index();
  const build = async () => {
    const problem = textProblem(docs.value);
    message.textContent = problem ?? '';
    if (problem) return false;
    chunks = createMarkdownSplitter({ chunkSize: 400, chunkOverlap: 0 }).split(docs.value, {
      id: 'notes.md',
    });
    bm25 = createBm25Index();
    await bm25.add(chunks.map((c, i) => ({ id: String(i), text: c.text })));
    status.textContent = `${chunks.length} chunks indexed`;
    status.dataset.chunks = String(chunks.length);
    return true;
  };
  index.addEventListener('click', () => void build());
  ask.addEventListener('click', async () => {
    if (chunks.length === 0 && !(await build())) return;
    if (!question.value.trim()) {
      message.textContent = 'Ask a question first.';
      return;
    }
    message.textContent = '';
    const retriever = async (q: string) =>
      (await bm25.search(q, { k: 3 })).map((hit) => ({ ...chunks[Number(hit.id)], ...hit }));
    // extractive "generation": one sentence from each of the two best sources, cited
    const generate = async (prompt: string) => {
      const found = [...prompt.matchAll(/^\[(\d+)\][^\n]*\n([\s\S]*?)(?=^\[\d+\]|\n*Question:)/gm)];
      return found
        .slice(0, 2)
        .map(([, n, body]) => `${bestSentence(body, question.value)} [${n}]`)
        .join(' ');
    };
    const out = await answer(question.value, {
      retriever,
      generate,
      tokenizer,
      maxContextTokens: 1500,
    });
    result.textContent = out.answer || 'No source matches the question.';
    result.dataset.citations = String(out.citations.length);
    sources.replaceChildren(
      ...out.citations.map((c) => {
        const sentence = bestSentence(c.text, question.value);
        const at = c.text.indexOf(sentence);
        const box = h(
          'div',
          { class: 'source', 'data-number': String(c.number) },
          h('strong', {}, `[${c.number}] `),
        );
        if (at >= 0 && sentence)
          box.append(
            c.text.slice(0, at),
            h('mark', {}, sentence),
            c.text.slice(at + sentence.length),
          );
        else box.append(c.text);
        return box;
      }),
    );
  });
}
