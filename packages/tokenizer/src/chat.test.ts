import { describe, expect, it } from 'vitest';
import { applyChatTemplate, CHATML_TEMPLATE, PLAIN_TEMPLATE } from './chat.js';

const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello.' },
];

describe('applyChatTemplate', () => {
  it('renders ChatML exactly, with and without the generation prompt', () => {
    expect(applyChatTemplate(messages, CHATML_TEMPLATE)).toBe(
      '<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n',
    );
    expect(
      applyChatTemplate(messages.slice(1, 2), CHATML_TEMPLATE, { addGenerationPrompt: true }),
    ).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
  });

  it('renders the plain template', () => {
    expect(
      applyChatTemplate(messages.slice(1), PLAIN_TEMPLATE, { addGenerationPrompt: true }),
    ).toBe('User: Hi\nAssistant: Hello.\nAssistant:');
  });

  it('passes variables such as bos_token to Hugging Face templates', () => {
    const template =
      '{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}';
    expect(
      applyChatTemplate(messages.slice(1, 2), template, {
        variables: { bos_token: '<s>', eos_token: '</s>' },
      }),
    ).toBe('<s>[user] Hi</s>');
  });
});
