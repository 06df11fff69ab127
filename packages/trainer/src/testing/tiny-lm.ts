import { Embedding, Linear, manualSeed, Module, type Tensor } from '@llmkit/core-tensor';

/**
 * A tiny language model for the trainer's tests: embedding, tanh, linear head. It is a real
 * model (its loss falls on real text) and small enough to train in milliseconds per step.
 */
export class TinyLanguageModel extends Module {
  readonly wte: Embedding;
  readonly head: Linear;

  constructor(vocabSize: number, width = 16, seed = 0) {
    super();
    manualSeed(seed);
    this.wte = this.addModule('wte', new Embedding(vocabSize, width, { std: 0.1 }));
    this.head = this.addModule('head', new Linear(width, vocabSize));
  }

  /** ids `[B, T]` -> logits `[B, T, V]`. */
  forward(ids: Tensor): Tensor {
    return this.head.forward(this.wte.forward(ids).tanh());
  }
}
