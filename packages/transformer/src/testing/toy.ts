// Shared checks for the architecture tests: gradient flow to every parameter, and a toy task.
import { AdamW, type Generator, type Module, noGrad, type Tensor, tidy } from '@llmkit/core-tensor';

/** Names of parameters whose gradient is missing or all zero after `loss.backward()`. */
export async function parametersWithoutGradient(model: Module, loss: Tensor): Promise<string[]> {
  model.zeroGrad();
  loss.backward();
  const dead: string[] = [];
  for (const [name, p] of model.namedParameters()) {
    if (!p.grad) {
      dead.push(`${name} (no grad)`);
      continue;
    }
    const g = await p.grad.data();
    if (!g.some((x) => x !== 0 && Number.isFinite(x))) dead.push(`${name} (zero)`);
    if (g.some((x) => !Number.isFinite(x))) dead.push(`${name} (non-finite)`);
  }
  model.zeroGrad();
  return dead;
}

/** Random sequences of `length` tokens in [1, vocab) (0 is left for separators). */
export function randomSequences(
  generator: Generator,
  count: number,
  length: number,
  vocab: number,
): number[][] {
  return Array.from({ length: count }, () =>
    Array.from({ length }, () => generator.nextInt(1, vocab)),
  );
}

/** Trains with AdamW for `steps`, returning the loss of the last step. */
export function trainSteps(
  model: Module,
  steps: number,
  lr: number,
  lossOf: (step: number) => Tensor,
): number {
  const optimizer = new AdamW(model.parameters(), { lr, weightDecay: 0 });
  let last = Number.NaN;
  for (let step = 0; step < steps; step++) {
    last = tidy(() => {
      const loss = lossOf(step);
      model.zeroGrad();
      loss.backward();
      optimizer.step();
      return noGrad(() => loss.item());
    });
  }
  model.zeroGrad();
  return last;
}
