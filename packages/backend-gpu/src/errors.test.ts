// GPU failures become WebGpuErrors that name the kernel: a shader that does not compile, a
// validation error caught by debug mode's error scopes, and an allocation above the device limit.
import { describe, expect, it } from 'vitest';
import type { GpuBuffer } from './buffers.js';
import { WebGpuError } from './errors.js';
import { Runtime } from './runtime.js';
import { testBackend } from './test-support/harness.js';
import { PARAMS_WGSL } from './wgsl.js';

const backend = await testBackend();
const gpu = typeof backend === 'string' ? undefined : backend;

describe.skipIf(!gpu)('GPU errors', () => {
  it('a shader that fails to compile is reported with the kernel name and the compiler message', async () => {
    const runtime = new Runtime(gpu!.device, { debug: false });
    const target = gpu!.allocate('float32', 4) as GpuBuffer;
    runtime.run({
      kernel: 'broken',
      key: 'broken:test',
      shader: () =>
        `${PARAMS_WGSL}\n@compute @workgroup_size(1) fn main() { let x: f32 = undefinedName; }`,
      buffers: [],
      params: [],
      workgroups: [1, 1, 1],
    });
    const read = runtime.read(target, 16);
    await expect(read).rejects.toThrow(WebGpuError);
    await expect(read).rejects.toThrow(
      /kernel broken \(shader broken:test\) failed to compile: line \d+: .*undefinedName/,
    );
    gpu!.free(target);
    runtime.destroy();
  });

  it('in debug mode a validation error names the kernel and its description', async () => {
    const runtime = new Runtime(gpu!.device, { debug: true });
    // A buffer without STORAGE usage bound as storage: rejected when the bind group is made.
    const wrong = gpu!.device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_DST });
    runtime.run({
      kernel: 'misbound',
      key: 'misbound:test',
      shader: () => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> O: array<u32>;
@compute @workgroup_size(1) fn main() { O[0] = p(0u); }`,
      buffers: [wrong],
      params: [1],
      workgroups: [1, 1, 1],
    });
    await expect(runtime.synchronize()).rejects.toThrow(/webgpu: kernel misbound: .*(usage|Usage)/);
    wrong.destroy();
    runtime.destroy();
  });

  it('an allocation above the largest storage binding is refused at once', () => {
    const limit = gpu!.device.limits.maxStorageBufferBindingSize;
    expect(() => gpu!.allocate('float32', Math.ceil(limit / 4) + 1024)).toThrow(
      /webgpu: a float32 buffer of \d+ elements needs \d+ bytes, above this device's largest storage binding/,
    );
  });
});
