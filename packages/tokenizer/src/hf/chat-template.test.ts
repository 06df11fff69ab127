// Chat templates from real tokenizer_config.json files: the prompt equals what
// @huggingface/jinja renders with the same template and Hugging Face's variables, and the
// well-known layouts come out as their model cards show.
import { Template } from '@huggingface/jinja';
import { describe, expect, it } from 'vitest';
import { lenmlFiles } from '../testing/hf-files.js';
import { Tokenizer } from './tokenizer.js';

const CONVERSATIONS = [
  [{ role: 'user', content: 'Hi there' }],
  [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'What is 2+2?' },
    { role: 'assistant', content: '4' },
    { role: 'user', content: 'And 3+3?' },
  ],
];

const tokenText = (value: unknown) =>
  typeof value === 'object' && value ? (value as { content: string }).content : value;

describe.each(['llama3', 'qwen3', 'gemma3'])('chat template of %s', (model) => {
  const { json, config } = lenmlFiles(model);
  const tokenizer = new Tokenizer(json, config);

  it.each([false, true])(
    'equals @huggingface/jinja (add_generation_prompt %s)',
    (addGenerationPrompt) => {
      const template = new Template(config.chat_template as string);
      for (const messages of CONVERSATIONS) {
        const expected = template.render({
          messages,
          add_generation_prompt: addGenerationPrompt,
          bos_token: tokenText(config.bos_token),
          eos_token: tokenText(config.eos_token),
          ...(config.unk_token != null ? { unk_token: tokenText(config.unk_token) } : {}),
          ...(config.pad_token != null ? { pad_token: tokenText(config.pad_token) } : {}),
        });
        expect(tokenizer.applyChatTemplate(messages, { addGenerationPrompt })).toBe(expected);
      }
    },
  );
});

describe('known layouts', () => {
  it('Qwen3: ChatML turns and the assistant opening', () => {
    const { json, config } = lenmlFiles('qwen3');
    const prompt = new Tokenizer(json, config).applyChatTemplate(CONVERSATIONS[0], {
      addGenerationPrompt: true,
    });
    expect(prompt).toBe('<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n');
  });

  it('Llama 3: header ids and <|eot_id|>, starting with the bos token', () => {
    const { json, config } = lenmlFiles('llama3');
    const prompt = new Tokenizer(json, config).applyChatTemplate(CONVERSATIONS[0], {
      addGenerationPrompt: true,
    });
    expect(prompt).toBe(
      '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  it('a tokenizer without a template says so', () => {
    const { json } = lenmlFiles('llama2');
    expect(() => new Tokenizer(json, {}).applyChatTemplate(CONVERSATIONS[0])).toThrow(
      /no chat_template/,
    );
  });
});
