import { answer, createBm25Index, createMarkdownSplitter } from '@llmkit/rag';
import { getEncoding } from '@llmkit/tokenizer';

// retrieval
const notes = '# Lift\nWings make lift when air flows fast.\n\n# Drag\nDrag grows with speed.';
const splitter = createMarkdownSplitter({ chunkSize: 200, chunkOverlap: 0 });
const chunks = splitter.split(notes, { id: 'notes.md' });
const index = createBm25Index();
await index.add(chunks.map((chunk, i) => ({ id: String(i), text: chunk.text })));
const [best] = await index.search('why do wings lift?', { k: 1 });
const { sourceId, start, end, metadata } = chunks[Number(best.id)];
console.log(best, sourceId, start, end, metadata.headings);

// a grounded answer with citations
const retriever = async (question) =>
  (await index.search(question, { k: 2 })).map((hit) => ({ ...chunks[Number(hit.id)], ...hit }));
const generate = async (_prompt) => 'Air flowing fast over the wing makes lift [1].'; // your model
const tokenizer = getEncoding('cl100k_base');
const options = { retriever, generate, tokenizer, maxContextTokens: 500 };
const result = await answer('How do wings make lift?', options);
console.log(result.citations.map((c) => [c.number, c.sourceId, c.start, c.end, c.text]));
console.log(result.prompt);
