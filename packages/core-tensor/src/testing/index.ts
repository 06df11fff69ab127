// @llmkit/core-tensor/testing: the backend conformance suite and the gradient checker.
export type { ConformanceCase, TensorSpec } from './cases.js';
export {
  type ConformanceOptions,
  checkConformanceCase,
  conformanceCases,
  describeConformance,
  missingFusedKernels,
  type TestFramework,
} from './conformance.js';
export { fusedCases } from './fused-cases.js';
export { type GradcheckOptions, type GradcheckResult, gradcheck } from './gradcheck.js';
export { requiredCases } from './required-cases.js';
