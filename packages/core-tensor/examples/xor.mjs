// The README example: a two-layer MLP learns XOR. Run: node examples/xor.mjs (after pnpm build).
import {
  AdamW,
  Lambda,
  Linear,
  manualSeed,
  mseLoss,
  Sequential,
  tensor,
  tidy,
} from '../dist/index.js';

manualSeed(0);
const model = new Sequential(new Linear(2, 8), new Lambda((h) => h.tanh()), new Linear(8, 1));
const [x, y] = [
  tensor([
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ]),
  tensor([[0], [1], [1], [0]]),
];
const optimizer = new AdamW(model.parameters(), { lr: 0.05, weightDecay: 0 });
for (let step = 0; step < 300; step++) {
  tidy(() => {
    optimizer.zeroGrad();
    mseLoss(model.forward(x), y).backward();
    optimizer.step();
  });
}
console.log((await model.forward(x).reshape([-1]).array()).map((v) => v.toFixed(3)));
