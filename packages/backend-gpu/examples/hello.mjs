// Runs a few ops on the webgpu backend (Dawn in Node; Mesa's software GL where there is no GPU).
import { registered } from '@llmkit/backend-gpu/register';
import { getBackend, tensor } from '@llmkit/core-tensor';

const a = tensor([
  [1, 2],
  [3, 4],
]);
console.log(getBackend().name, registered?.adapterDescription);
console.log(await a.matmul(a).softmax(-1).data());
registered?.destroy();
