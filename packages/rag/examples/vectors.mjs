import { createHnswIndex, createPgliteStore } from '@llmkit/rag';

const index = createHnswIndex({ dimension: 3, metric: 'cosine', m: 16, efConstruction: 200 });
await index.add([
  { id: 'wing', vector: [0.9, 0.1, 0] },
  { id: 'drag', vector: [0, 1, 0] },
]);
console.log(await index.search([1, 0, 0], { k: 1, efSearch: 64 }));
const store = await createPgliteStore({ dimension: 3 }); // dataDir: './rag-db' persists it
const metadata = { sourceId: 'notes.md' };
await store.add([{ id: 'a', text: 'Wings make lift.', vector: [0.9, 0.1, 0], metadata }]);
console.log(await store.search([1, 0, 0], { k: 1, filter: { sourceId: 'notes.md' } }));
await store.close();
