import { Template } from '@huggingface/jinja';

/** One message of a conversation. */
export interface ChatMessage {
  /** Who speaks: usually `system`, `user` or `assistant`. */
  role: string;
  /** What they say. */
  content: string;
}

/** Options of {@link applyChatTemplate}. */
export interface ChatTemplateOptions {
  /** End with the opening of an assistant turn, so a model continues as the assistant. Default `false`. */
  addGenerationPrompt?: boolean;
  /** Further variables the template reads (such as `bos_token`, `eos_token`). */
  variables?: Record<string, unknown>;
}

/**
 * ChatML, as used by many instruction-tuned models:
 * `<|im_start|>user\nHi<|im_end|>\n`, one block per message.
 */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** A plain template for small models without special tokens: `User: ...\nAssistant: ...\n`. */
export const PLAIN_TEMPLATE =
  "{% for message in messages %}{{ message['role'] | capitalize }}: {{ message['content'] }}\n{% endfor %}" +
  '{% if add_generation_prompt %}Assistant:{% endif %}';

const compiled = new Map<string, Template>();

/**
 * Renders a conversation with a Hugging Face chat template (Jinja), as transformers'
 * `tokenizer.apply_chat_template(messages, tokenize=False)`.
 *
 * @example
 * ```ts
 * applyChatTemplate([{ role: 'user', content: 'Hi' }], CHATML_TEMPLATE, { addGenerationPrompt: true });
 * // '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n'
 * ```
 */
export function applyChatTemplate(
  messages: readonly ChatMessage[],
  template: string = CHATML_TEMPLATE,
  options: ChatTemplateOptions = {},
): string {
  let t = compiled.get(template);
  if (!t) {
    t = new Template(template);
    compiled.set(template, t);
  }
  return t.render({
    ...options.variables,
    messages,
    add_generation_prompt: options.addGenerationPrompt ?? false,
  });
}
