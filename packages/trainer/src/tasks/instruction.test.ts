import { CHATML_TEMPLATE, CharTokenizer } from '@llmkit/tokenizer';
import { describe, expect, it } from 'vitest';
import { IGNORE_INDEX } from '../data/examples.js';
import {
  instructionBatches,
  instructionExampleFromRecord,
  parseInstructionRecords,
  renderInstruction,
} from './instruction.js';

const record = { prompt: 'What is 2+2?', response: 'It is 4.' };

describe('instruction records', () => {
  it('splits the rendered exchange at the opening of the assistant turn', () => {
    expect(renderInstruction(record)).toEqual({
      prompt: 'User: What is 2+2?\nAssistant:',
      response: ' It is 4.\n',
    });
    expect(
      renderInstruction({ ...record, system: 'Be brief.' }, { template: CHATML_TEMPLATE }),
    ).toEqual({
      prompt:
        '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n',
      response: 'It is 4.<|im_end|>\n',
    });
  });

  it('masks exactly the rendered prompt and keeps the response and end token', () => {
    const { prompt, response } = renderInstruction(record, { template: CHATML_TEMPLATE });
    const tokenizer = CharTokenizer.fromText(prompt + response);
    const format = {
      encode: (t: string) => tokenizer.encode(t),
      template: CHATML_TEMPLATE,
      eosTokenId: 0,
    };
    const example = instructionExampleFromRecord(record, format);
    expect(tokenizer.decode(example.inputIds.slice(0, -1))).toBe(prompt + response);
    expect(example.labels.slice(0, prompt.length).every((l) => l === IGNORE_INDEX)).toBe(true);
    expect(tokenizer.decode(example.labels.slice(prompt.length, -1))).toBe(response);
    expect(example.labels.at(-1)).toBe(0);
    const data = instructionBatches(
      { train: [record, record], validation: [record] },
      { ...format, batchSize: 2, padTokenId: 0 },
    );
    const batch = data.next('train');
    // targets are labels shifted by one: the first response character is predicted from the prompt's end
    const T = batch.blockSize;
    expect(batch.targets[prompt.length - 2]).toBe(IGNORE_INDEX);
    expect(batch.targets[prompt.length - 1]).toBe(tokenizer.encode(response)[0]);
    expect(T).toBe(prompt.length + response.length);
  });

  it('names a template that cannot be split and a record that cannot be encoded', () => {
    expect(() => renderInstruction(record, { template: '{{ messages[0].content }}' })).toThrow(
      /is not a prefix of the rendered exchange/,
    );
    const tokenizer = CharTokenizer.fromText('abc');
    expect(() =>
      instructionBatches(
        { train: [record], validation: [record] },
        { encode: (t) => tokenizer.encode(t), batchSize: 1, padTokenId: 0 },
      ),
    ).toThrow(/train record 0: CharTokenizer\.encode: character "U"/);
  });

  it('reads JSON lines, including Alpaca fields', () => {
    const text = [
      '{"prompt":"Hi","response":"Hello","system":"s"}',
      '',
      '{"instruction":"Add","input":"2 and 2","output":"4"}',
    ].join('\n');
    expect(parseInstructionRecords(text)).toEqual([
      { prompt: 'Hi', response: 'Hello', system: 's' },
      { prompt: 'Add\n\n2 and 2', response: '4' },
    ]);
    expect(() => parseInstructionRecords('{"prompt":"x"}', 'data.jsonl')).toThrow(
      /data\.jsonl line 1: expected string "prompt" and "response"/,
    );
    expect(() => parseInstructionRecords('not json')).toThrow(/line 1: not JSON/);
    expect(() => parseInstructionRecords('\n\n', 'e.jsonl')).toThrow(/e\.jsonl: no records/);
  });
});
