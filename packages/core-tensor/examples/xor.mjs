// The README example: a two-layer MLP learns XOR. Run: node examples/xor.mjs (after pnpm build).
import { AdamW, Lambda, Linear, mseLoss, Sequential, tensor, tidy } from '../dist/index.js';
const model = new Sequential(new Linear(2, 8), new Lambda((h) => h.tanh()), new Linear(8, 1));
const [x, y] = [tensor([0, 0, 0, 1, 1, 0, 1, 1], { shape: [4, 2] }), tensor([[0], [1], [1], [0]])];
const optimizer = new AdamW(model.parameters(), { lr: 0.05, weightDecay: 0 });
for (let step = 0; step < 300; step++) {
  optimizer.zeroGrad();
  tidy(() => mseLoss(model.forward(x), y).backward());
  optimizer.step();
}
console.log(await model.forward(x).reshape([-1]).array());
