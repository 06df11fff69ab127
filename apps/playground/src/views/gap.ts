// The lifecycle stages the playground does not show yet, said plainly.
import { h } from '../dom.js';

export function mountGap(root: HTMLElement): void {
  root.append(
    h('h2', {}, 'Fine-tuning, quantization and alignment: not in the playground yet'),
    h(
      'p',
      { id: 'gap-note' },
      'LoRA (@llmkit/peft), int8 / int4 / NF4 quantization (@llmkit/quantize) and DPO / PPO / GRPO (@llmkit/rlhf) run in Node today; their views here (trainable-parameter counts, size and perplexity side by side, reward curves) are still to come. See each package README for a runnable example.',
    ),
  );
}
