// The command stream of the webgpu backend: kernels are encoded into one command encoder and
// submitted in batches (on a read, when the batch is long, or when its parameter arena fills),
// pipelines are compiled once and cached, and GPU errors are turned into WebGpuErrors that name
// the kernel. Small writes travel inside the command stream (copied from the arena), so a write
// after queued kernels never overtakes them.
import { TensorError } from '@llmkit/core-tensor';
import type { GpuBuffer } from './buffers.js';
import { WebGpuError } from './errors.js';

/** One kernel launch, as the kernel files describe it. */
export interface Dispatch {
  /** Kernel name, for errors (`matmul`). */
  kernel: string;
  /** Cache key of the shader: same key, same WGSL. */
  key: string;
  /** Builds the WGSL on first use of `key`. Binding 0 is the parameter block `P`. */
  shader: () => string;
  /** Buffers bound at 1, 2, ... in order. */
  buffers: readonly GPUBuffer[];
  /** Up to 64 parameter words (u32; floats as their bits, see {@link f32Bits}). */
  params: readonly number[];
  /** Workgroups along x, y and z. */
  workgroups: readonly [number, number, number];
  /**
   * For kernels that validate indices on the GPU: the error flag is bound after `buffers`, and a
   * failing index is reported on the next read with this description.
   */
  describe?: () => string;
}

const ARENA_BYTES = 4 * 1024 * 1024;
const PARAM_BYTES = 256;
const BATCH_DISPATCHES = 128;
const NO_FAILURE = 0xffffffff;

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** The bits of a float32, for parameter words. */
export function f32Bits(value: number): number {
  scratch[0] = value;
  return scratchBits[0];
}

/** Workgroup counts for `n` invocations of `size`, folded into y beyond 65,535 groups. */
export function grid(n: number, size = 256): [number, number, number] {
  const groups = Math.ceil(n / size);
  if (groups <= 65535) return [Math.max(groups, 1), 1, 1];
  return [65535, Math.ceil(groups / 65535), 1];
}

/** Options of the runtime. */
export interface RuntimeOptions {
  /** Submit each kernel alone inside error scopes, so errors name it (slow). */
  debug: boolean;
}

export class Runtime {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly arena: GPUBuffer;
  private readonly arenaCpu = new ArrayBuffer(ARENA_BYTES);
  private readonly arenaWords = new Uint32Array(this.arenaCpu);
  private arenaUsed = 0;
  private encoder: GPUCommandEncoder | undefined;
  private pass: GPUComputePassEncoder | undefined;
  private batchKernels: string[] = [];
  private readonly staging = new Map<number, GPUBuffer[]>();
  /** The GPU flag a validating kernel lowers to its dispatch serial when an index is bad. */
  readonly failureFlag: GPUBuffer;
  private readonly checked = new Map<number, () => string>();
  private serial = 0;
  private pendingError: Error | undefined;
  private compileError: Error | undefined;
  private readonly scopes: Promise<void>[] = [];
  private lost: string | undefined;
  /** Kernel launches and submits so far (for tests and profiling). */
  readonly counters = { dispatches: 0, submits: 0, pipelines: 0 };
  private readonly paramAlign: number;

  constructor(
    readonly device: GPUDevice,
    private readonly options: RuntimeOptions,
  ) {
    this.paramAlign = Math.max(PARAM_BYTES, device.limits.minUniformBufferOffsetAlignment);
    this.arena = device.createBuffer({
      size: ARENA_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    });
    this.failureFlag = device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(this.failureFlag, 0, new Uint32Array([NO_FAILURE, 0, 0, 0]));
    device.lost.then((info) => {
      this.lost = `${info.reason}: ${info.message}`;
    });
    device.addEventListener?.('uncapturederror', (event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      const kernels = this.batchKernels.length ? this.batchKernels : ['(unknown)'];
      const wrapped = wrapGpuError(
        error,
        `in a batch of kernels [${[...new Set(kernels)].join(', ')}]; create the backend with { debug: true } to name the kernel and shapes`,
      );
      if (error.message.includes('previous error') && this.scopes.length) {
        // The cause is a shader that failed to compile: report its compiler message instead.
        const earlier = this.scopes.slice();
        this.scopes.push(
          Promise.all(earlier).then(() => {
            if (!this.compileError) this.pendingError ??= wrapped;
          }),
        );
        return;
      }
      this.pendingError ??= wrapped;
    });
  }

  /** Throws the first GPU failure seen so far (device lost, validation, out of memory). */
  throwIfFailed(): void {
    if (this.lost !== undefined) {
      throw new WebGpuError('device_lost', `webgpu: the device was lost (${this.lost})`);
    }
    const error = this.compileError ?? this.pendingError;
    if (error) {
      this.pendingError = undefined;
      this.compileError = undefined;
      throw error;
    }
  }

  private pipeline(dispatch: Dispatch): GPUComputePipeline {
    let pipeline = this.pipelines.get(dispatch.key);
    if (pipeline) return pipeline;
    const code = dispatch.shader();
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code, label: dispatch.key });
    pipeline = this.device.createComputePipeline({
      layout: 'auto',
      compute: { module, entryPoint: 'main' },
      label: dispatch.key,
    });
    this.scopes.push(
      Promise.all([this.device.popErrorScope(), module.getCompilationInfo()]).then(
        ([error, info]) => {
          const lines = code.split('\n');
          const messages = info.messages
            .filter((m) => m.type === 'error')
            .map((m) => `line ${m.lineNum}: ${m.message} (${(lines[m.lineNum - 1] ?? '').trim()})`);
          if (error || messages.length) {
            this.compileError = new WebGpuError(
              'validation',
              `webgpu: kernel ${dispatch.kernel} (shader ${dispatch.key}) failed to compile: ${messages.join('; ') || error?.message}`,
            );
          }
        },
      ),
    );
    this.pipelines.set(dispatch.key, pipeline);
    this.counters.pipelines++;
    return pipeline;
  }

  private reserve(bytes: number, align: number): number {
    let offset = Math.ceil(this.arenaUsed / align) * align;
    if (offset + bytes > ARENA_BYTES) {
      this.flush();
      offset = 0;
    }
    this.arenaUsed = offset + bytes;
    return offset;
  }

  private commandEncoder(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = undefined;
  }

  /** Encodes one kernel launch. */
  run(dispatch: Dispatch): void {
    this.throwIfFailed();
    const pipeline = this.pipeline(dispatch);
    if (dispatch.params.length > PARAM_BYTES / 4) {
      throw new WebGpuError(
        'unsupported',
        `webgpu: ${dispatch.kernel} needs more than 64 parameter words`,
      );
    }
    const offset = this.reserve(PARAM_BYTES, this.paramAlign);
    this.arenaWords.set(dispatch.params, offset / 4);
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.arena, offset, size: PARAM_BYTES } },
    ];
    dispatch.buffers.forEach((buffer, i) => {
      entries.push({ binding: i + 1, resource: { buffer } });
    });
    if (dispatch.describe) {
      const serial = this.serial++;
      this.checked.set(serial, dispatch.describe);
      entries.push({ binding: entries.length, resource: { buffer: this.failureFlag } });
      // The serial goes in the last parameter word the validating kernels read.
      this.arenaWords[offset / 4 + 63] = serial;
    }
    if (this.options.debug) this.scopeAll();
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries,
    });
    this.pass ??= this.commandEncoder().beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(...dispatch.workgroups);
    this.counters.dispatches++;
    this.batchKernels.push(dispatch.kernel);
    if (this.options.debug) {
      this.flush();
      this.popAll(
        `webgpu: kernel ${dispatch.kernel}${dispatch.describe ? ` (${dispatch.describe()})` : ''}`,
      );
    } else if (this.batchKernels.length >= BATCH_DISPATCHES) {
      this.flush();
    }
  }

  private scopeAll(): void {
    this.device.pushErrorScope('validation');
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('internal');
  }

  private popAll(what: string): void {
    for (let i = 0; i < 3; i++) {
      this.scopes.push(
        this.device.popErrorScope().then((error) => {
          if (error) this.pendingError ??= wrapGpuError(error, what);
        }),
      );
    }
  }

  /** Copies `words` into `target` at byte `byteOffset`, in order with the queued kernels. */
  upload(target: GpuBuffer, words: Uint32Array, byteOffset = 0): void {
    this.throwIfFailed();
    const bytes = words.byteLength;
    if (bytes === 0) return;
    if (bytes > ARENA_BYTES / 4) {
      this.flush();
      this.device.queue.writeBuffer(target.gpu, byteOffset, words.buffer, words.byteOffset, bytes);
      return;
    }
    const offset = this.reserve(bytes, 16);
    this.arenaWords.set(words, offset / 4);
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(this.arena, offset, target.gpu, byteOffset, bytes);
  }

  /** Encodes a buffer-to-buffer copy of `bytes` (multiples of 4) in order with the kernels. */
  copy(
    source: GPUBuffer,
    sourceOffset: number,
    target: GPUBuffer,
    targetOffset: number,
    bytes: number,
  ): void {
    if (bytes === 0) return;
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(source, sourceOffset, target, targetOffset, bytes);
  }

  /** Submits everything encoded so far. */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    if (this.arenaUsed > 0) {
      this.device.queue.writeBuffer(
        this.arena,
        0,
        this.arenaCpu,
        0,
        Math.ceil(this.arenaUsed / 4) * 4,
      );
    }
    this.device.queue.submit([this.encoder.finish()]);
    this.counters.submits++;
    this.encoder = undefined;
    this.arenaUsed = 0;
    this.batchKernels = [];
  }

  private takeStaging(bytes: number): GPUBuffer {
    return (
      this.staging.get(bytes)?.pop() ??
      this.device.createBuffer({
        size: bytes,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      })
    );
  }

  private giveStaging(buffer: GPUBuffer): void {
    let list = this.staging.get(buffer.size);
    if (!list) {
      list = [];
      this.staging.set(buffer.size, list);
    }
    if (list.length < 4) list.push(buffer);
    else buffer.destroy();
  }

  /** Reads `bytes` from the start of `source` once every queued kernel has run. */
  async read(source: GpuBuffer, bytes: number): Promise<ArrayBuffer> {
    this.throwIfFailed();
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const staging = this.takeStaging(Math.min(size, source.capacity));
    this.copy(source.gpu, 0, staging, 0, staging.size);
    const checking = this.checked.size > 0;
    const flagStaging = checking ? this.takeStaging(16) : undefined;
    if (flagStaging) this.copy(this.failureFlag, 0, flagStaging, 0, 16);
    this.commandEncoder();
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (error) {
      this.throwIfFailed();
      throw new WebGpuError(
        'device_lost',
        `webgpu: reading a buffer failed: ${(error as Error).message}`,
      );
    }
    const result = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    this.giveStaging(staging);
    await Promise.all(this.scopes.splice(0));
    this.throwIfFailed();
    if (flagStaging) await this.checkFailureFlag(flagStaging);
    return result;
  }

  private async checkFailureFlag(flagStaging: GPUBuffer): Promise<void> {
    await flagStaging.mapAsync(GPUMapMode.READ);
    const [serial, value] = new Uint32Array(flagStaging.getMappedRange().slice(0, 8));
    flagStaging.unmap();
    this.giveStaging(flagStaging);
    if (serial === NO_FAILURE) {
      this.checked.clear();
      return;
    }
    const describe = this.checked.get(serial);
    this.checked.clear();
    this.device.queue.writeBuffer(this.failureFlag, 0, new Uint32Array([NO_FAILURE, 0, 0, 0]));
    throw new TensorError(
      'invalid_argument',
      `${describe ? describe() : 'an indexing kernel'}: index ${value | 0} is out of range (reported by the GPU at the next read)`,
    );
  }

  /** Waits for every queued kernel. */
  async synchronize(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await Promise.all(this.scopes.splice(0));
    this.throwIfFailed();
  }

  /** Frees the GPU objects the runtime owns. */
  destroy(): void {
    this.arena.destroy();
    this.failureFlag.destroy();
    for (const list of this.staging.values()) for (const b of list) b.destroy();
    this.staging.clear();
  }
}

function wrapGpuError(error: GPUError, where: string): WebGpuError {
  const kind = error.constructor?.name ?? '';
  const code = kind.includes('OutOfMemory') ? 'out_of_memory' : 'validation';
  return new WebGpuError(code, `${where}: ${kind || 'GPU error'}: ${error.message}`);
}
