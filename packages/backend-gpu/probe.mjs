import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
for (const flags of [[], ['backend=vulkan'], ['backend=opengles']]) {
  const gpu = create(flags);
  for (const featureLevel of ['core', 'compatibility']) {
    const adapter = await gpu.requestAdapter({ featureLevel }).catch(e => 'err ' + e.message);
    console.log(flags, featureLevel, adapter && adapter.info ? [adapter.info.vendor, adapter.info.architecture, adapter.info.device, adapter.info.description, adapter.featureLevel] : adapter);
  }
}
const gpu = create(['backend=opengles']);
const adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' });
const device = await adapter.requestDevice({ requiredLimits: { maxComputeInvocationsPerWorkgroup: 256, maxStorageBuffersPerShaderStage: 16 } });
const m = device.createShaderModule({ code: `@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) { if (g.x < arrayLength(&a)) { a[g.x] = a[g.x] * 2.0 + 1.0; } }` });
const p = device.createComputePipeline({ layout: 'auto', compute: { module: m, entryPoint: 'main' } });
const buf = device.createBuffer({ size: 1024 * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
device.queue.writeBuffer(buf, 0, new Float32Array(1024).map((_, i) => i));
const enc = device.createCommandEncoder();
const pass = enc.beginComputePass();
pass.setPipeline(p); pass.setBindGroup(0, device.createBindGroup({ layout: p.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] }));
pass.dispatchWorkgroups(16); pass.end();
const st = device.createBuffer({ size: 4096, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
enc.copyBufferToBuffer(buf, 0, st, 0, 4096);
device.queue.submit([enc.finish()]);
const t0 = performance.now();
await st.mapAsync(GPUMapMode.READ);
console.log('mapped in', performance.now() - t0, new Float32Array(st.getMappedRange()).slice(0, 5));
device.destroy();
