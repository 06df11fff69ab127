import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBm25Index } from '../bm25/bm25-index.js';
import { loadCranfield, parseCranfieldQrels } from './cranfield.js';
import { evaluateRetrieval } from './metrics.js';

describe('evaluateRetrieval', () => {
  it('matches hand-computed nDCG, AP, recall and RR', () => {
    // q1 judged: d1 gain 3, d2 gain 1, d5 gain 2 (3 relevant); run: d9 d1 d7 d2 (d5 never found)
    // DCG@4 = 3/log2(3) + 1/log2(5); ideal@4 = 3/1 + 2/log2(3) + 1/2
    // AP = (1/2 + 2/4) / 3; recall@2 = 1/3, recall@4 = 2/3; RR = 1/2
    // q2 judged: d3 gain 1; run: d3 -> everything 1. q3 judged only with gain 0: not counted.
    const qrels = { q1: { d1: 3, d2: 1, d5: 2 }, q2: { d3: 1 }, q3: { d4: 0 } };
    const run = {
      q1: [{ id: 'd9' }, { id: 'd1' }, { id: 'd7' }, { id: 'd2' }],
      q2: ['d3'],
      q3: ['d4'],
    };
    const m = evaluateRetrieval(run, qrels, { cutoffs: [2, 4] });
    const dcg4 = 3 / Math.log2(3) + 1 / Math.log2(5);
    const ideal4 = 3 + 2 / Math.log2(3) + 1 / 2;
    const dcg2 = 3 / Math.log2(3);
    const ideal2 = 3 + 2 / Math.log2(3);
    expect(m.queryCount).toBe(2);
    expect(m.perQuery.q1.ndcg[4]).toBeCloseTo(dcg4 / ideal4, 12);
    expect(m.perQuery.q1.ndcg[2]).toBeCloseTo(dcg2 / ideal2, 12);
    expect(m.perQuery.q1.averagePrecision).toBeCloseTo((1 / 2 + 2 / 4) / 3, 12);
    expect(m.perQuery.q1.recall).toEqual({ 2: 1 / 3, 4: 2 / 3 });
    expect(m.perQuery.q1.reciprocalRank).toBe(0.5);
    expect(m.ndcg[4]).toBeCloseTo((dcg4 / ideal4 + 1) / 2, 12);
    expect(m.map).toBeCloseTo(((1 / 2 + 2 / 4) / 3 + 1) / 2, 12);
    expect(m.mrr).toBeCloseTo(0.75, 12);
    expect(m.recall[2]).toBeCloseTo((1 / 3 + 1) / 2, 12);
  });

  it('scores a missing query 0 and counts a repeated id once', () => {
    const m = evaluateRetrieval(
      { q1: ['a', 'a', 'b'] },
      { q1: { a: 1, b: 1 }, q2: { c: 1 } },
      { cutoffs: [3] },
    );
    expect(m.perQuery.q2).toEqual({
      ndcg: { 3: 0 },
      recall: { 3: 0 },
      averagePrecision: 0,
      reciprocalRank: 0,
    });
    expect(m.perQuery.q1.averagePrecision).toBeCloseTo((1 + 2 / 3) / 2, 12);
  });
});

const cranfieldDir = join(import.meta.dirname, '../../../../../shared/data/cranfield');
const haveCranfield = existsSync(join(cranfieldDir, 'cranqrel'));
if (!haveCranfield)
  console.warn(
    `skipping Cranfield tests: ${cranfieldDir} is absent (../shared/data from the repository root)`,
  );

describe.skipIf(!haveCranfield)('loadCranfield', () => {
  it('maps queries by position, drops grade -1 rows and converts grades to gains', async () => {
    const { documents, queries, qrels } = await loadCranfield(cranfieldDir);
    expect(documents).toHaveLength(1400);
    expect(queries).toHaveLength(225);
    expect(queries[2]).toMatchObject({ id: '3', printedNumber: '004' });
    expect(queries[2].text).toMatch(/^what problems of heat conduction in composite slabs/);
    expect(documents[0].title).toBe(
      'experimental investigation of the aerodynamics of a wing in a slipstream .',
    );
    expect(Object.keys(qrels)).toHaveLength(225);
    const rows = Object.values(qrels).reduce((n, q) => n + Object.keys(q).length, 0);
    expect(rows).toBe(1612);
    expect(qrels['1']['184']).toBe(3); // "1 184 2" -> gain 3
    expect(Object.values(qrels).every((q) => Object.values(q).every((g) => g >= 1 && g <= 4))).toBe(
      true,
    );
  });

  it('BM25 with a title field reaches a sane nDCG@10 on Cranfield', async () => {
    const { documents, queries, qrels } = await loadCranfield(cranfieldDir);
    const index = createBm25Index({ fieldBoosts: { title: 2 } });
    await index.add(documents.map((d) => ({ id: d.id, text: d.text, fields: { title: d.title } })));
    const run = Object.fromEntries(
      await Promise.all(queries.map(async (q) => [q.id, await index.search(q.text, { k: 100 })])),
    );
    const metrics = evaluateRetrieval(run, qrels);
    expect(metrics.ndcg[10]).toBeGreaterThan(0.35);
  });
});

describe('parseCranfieldQrels', () => {
  it('drops -1 rows, tolerates trailing spaces and rejects unknown grades', () => {
    expect(parseCranfieldQrels('1 184 2 \n1 29 -1\n2 12 4')).toEqual({
      1: { 184: 3 },
      2: { 12: 1 },
    });
    expect(() => parseCranfieldQrels('1 2 7')).toThrow(/grade 7/);
  });
});
