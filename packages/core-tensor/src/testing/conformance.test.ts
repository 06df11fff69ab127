import { describe, expect, it } from 'vitest';
import { createJsBackend } from '../backend/index.js';
import { type Backend, FUSED_KERNELS, REQUIRED_KERNELS } from '../backend/types.js';
import { checkConformanceCase, conformanceCases, describeConformance } from './index.js';

// The js backend passes its own suite (float32 and float64, every fused kernel).
describeConformance(createJsBackend(), { describe, it });

describe('the conformance suite', () => {
  it('covers every kernel, size-0 dims, broadcasting, transposes and slices', () => {
    const names = conformanceCases(createJsBackend()).map((c) => c.name);
    expect(names.length).toBeGreaterThan(500);
    for (const kernel of [...REQUIRED_KERNELS, ...FUSED_KERNELS]) {
      expect(names.some((n) => n.startsWith(`${kernel} `))).toBe(true);
    }
    for (const feature of ['size-0', 'broadcast', 'transposed', 'sliced', 'magnitudes']) {
      expect(names.some((n) => n.includes(feature))).toBe(true);
    }
  });

  it('catches a backend with a wrong kernel', async () => {
    const good = createJsBackend();
    const broken: Backend = {
      ...good,
      name: 'broken',
      run(name, inputs, outputs, attributes) {
        // A subtle bug: gelu computed as the tanh approximation.
        const fixed =
          name === 'unary' && attributes.op === 'gelu'
            ? { ...attributes, op: 'geluTanh' }
            : attributes;
        good.run(name, inputs, outputs, fixed);
      },
    };
    const cases = conformanceCases(broken).filter((c) =>
      c.name.startsWith('unary gelu float32 transposed'),
    );
    expect(await checkConformanceCase(broken, cases[0])).toMatch(
      /unary gelu float32 transposed: output 0 element \d+ is/,
    );
  });
});
