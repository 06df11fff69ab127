// The Tensor class: a strided view of reference-counted backend storage, plus autograd fields.
// Ops live in ops/; the methods here are thin aliases so that `x.add(y)` reads like PyTorch.
import type { Node } from './autograd/node.js';
import type { Backend, KernelTensor } from './backend/types.js';
import type { DType, TypedArray } from './dtype.js';
import { keep, type Storage, trackTensor, untrackTensor } from './engine.js';
import { formatShape, TensorError } from './errors.js';
import * as ops from './ops/index.js';
import type { Shape } from './shape.js';
import { TensorMethods } from './tensor-methods.js';
import { contiguousStrides, shapeSize } from './shape.js';

/** A value accepted where a tensor is expected in binary ops: a tensor or a JS number. */
export type TensorLike = Tensor | number;

/** Nested arrays of numbers, as returned by {@link Tensor.array}. */
export type NestedArray = number | boolean | NestedArray[];

/**
 * An n-dimensional array on a backend, with reverse-mode autograd. Create tensors with
 * `tensor`, `zeros`, `randn`...; ops return new tensors (views share storage).
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const loss = x.mul(x).sum();
 * loss.backward();
 * console.log(await x.grad!.array()); // [[2, 4], [6, 8]]
 * ```
 */
export class Tensor extends TensorMethods {
  /** Dimensions, outermost first. */
  readonly shape: readonly number[];
  /** Element distance along each dimension within the storage. */
  readonly strides: readonly number[];
  /** Index of the first element within the storage. */
  readonly offset: number;
  /** Element type. */
  readonly dtype: DType;
  /** True when gradients flow to (or through) this tensor. */
  requiresGrad = false;
  /** Gradient accumulated by `backward()` (leaf tensors only). */
  grad: Tensor | null = null;
  /** The autograd node that produced this tensor, or null for leaves. */
  gradFn: Node | null = null;
  private storageRef: Storage | null;

  /** Wraps storage; use the creation functions (`tensor`, `zeros`...) instead. */
  constructor(
    storage: Storage,
    shape: Shape,
    dtype: DType,
    strides?: readonly number[],
    offset = 0,
  ) {
    super();
    this.storageRef = storage;
    this.shape = shape.slice();
    this.strides = strides ? strides.slice() : contiguousStrides(shape);
    this.offset = offset;
    this.dtype = dtype;
    trackTensor(this);
  }

  /** The backend holding the data. */
  get backend(): Backend {
    return this.storage.backend;
  }

  /** The storage; throws when the tensor was disposed. */
  get storage(): Storage {
    if (!this.storageRef) {
      throw new TensorError(
        'disposed',
        `use of a disposed tensor (shape ${formatShape(this.shape)}, ${this.dtype})`,
      );
    }
    return this.storageRef;
  }

  /** True once `dispose()` ran. */
  get disposed(): boolean {
    return this.storageRef === null;
  }

  /** Number of elements. */
  get size(): number {
    return shapeSize(this.shape);
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** True when the elements are row-major and dense. */
  get isContiguous(): boolean {
    let expected = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== expected) return false;
      expected *= this.shape[i];
    }
    return true;
  }

  /** The view of this tensor handed to kernels. */
  kernelView(): KernelTensor {
    const storage = this.storage;
    return {
      buffer: storage.buffer,
      dtype: this.dtype,
      shape: this.shape,
      strides: this.strides,
      offset: this.offset,
    };
  }

  /** Frees the storage (once no view shares it) and the autograd graph behind this tensor. */
  dispose(): void {
    if (!this.storageRef) return;
    this.storageRef.release();
    this.storageRef = null;
    untrackTensor();
    if (this.gradFn) {
      const node = this.gradFn;
      this.gradFn = null;
      node.unref();
    }
  }

  /** A new tensor sharing this storage, outside every tidy scope (for saved tensors). */
  share(): Tensor {
    return keep(
      new Tensor(this.storage.retain(), this.shape, this.dtype, this.strides, this.offset),
    );
  }

  /** Attaches the autograd node that produced this tensor. */
  attachGradFn(node: Node): void {
    this.gradFn = node;
    this.requiresGrad = true;
    node.refs++;
  }

  /** A view of the same storage that is cut from the graph and requires no gradient. */
  detach(): Tensor {
    return new Tensor(this.storage.retain(), this.shape, this.dtype, this.strides, this.offset);
  }

  /** Marks a leaf tensor as wanting a gradient (returns this). */
  requiresGrad_(value = true): this {
    if (this.gradFn && !value) {
      throw new TensorError(
        'invalid_argument',
        'requiresGrad_: only leaf tensors can stop requiring grad; use detach()',
      );
    }
    this.requiresGrad = value;
    return this;
  }

  /**
   * Reads the elements in row-major order once pending work has finished. The type parameter
   * only narrows the static type (default Float32Array); pass the array type of the dtype.
   */
  async data<T extends TypedArray = Float32Array>(): Promise<T> {
    if (this.isContiguous && this.offset === 0 && this.size === this.storage.buffer.size) {
      return (await this.backend.read(this.storage.buffer)) as T;
    }
    const dense = ops.denseCopy(this);
    try {
      return (await dense.backend.read(dense.storage.buffer)) as T;
    } finally {
      dense.dispose();
    }
  }

  /** Reads synchronously (see {@link Tensor.data}); throws on backends that cannot (WebGPU). */
  dataSync<T extends TypedArray = Float32Array>(): T {
    const read = this.backend.readSync;
    if (!read)
      throw new TensorError(
        'unsupported',
        `dataSync: backend '${this.backend.name}' reads asynchronously; use await data()`,
      );
    if (this.isContiguous && this.offset === 0 && this.size === this.storage.buffer.size) {
      return read.call(this.backend, this.storage.buffer) as T;
    }
    const dense = ops.denseCopy(this);
    try {
      return read.call(dense.backend, dense.storage.buffer) as T;
    } finally {
      dense.dispose();
    }
  }

  /** The single value of a one-element tensor (synchronous backends). */
  item(): number {
    if (this.size !== 1)
      throw new TensorError(
        'invalid_argument',
        `item: tensor has ${this.size} elements, expected 1`,
      );
    const value = this.dataSync<TypedArray>()[0];
    return typeof value === 'bigint' ? Number(value) : value;
  }

  /** The elements as nested arrays (booleans for bool tensors). */
  async array(): Promise<NestedArray> {
    const flat = ops.decodeValues(this.dtype, await this.data<TypedArray>());
    return ops.nest(flat, this.shape);
  }

  /** Synchronous {@link Tensor.array}. */
  arraySync(): NestedArray {
    return ops.nest(ops.decodeValues(this.dtype, this.dataSync<TypedArray>()), this.shape);
  }

  /** Runs backward from this tensor (a scalar, or pass `gradient` of the same shape). */
  backward(gradient?: Tensor, options: { retainGraph?: boolean } = {}): void {
    ops.backward(this, gradient, options);
  }

  /** Copies `value`'s elements into this tensor in place (same shape and dtype); no autograd. */
  assign(value: Tensor): this {
    ops.assign(this, value);
    return this;
  }

  /** A copy of this tensor on the backend registered as `name` (no autograd link). */
  async toBackend(name: string): Promise<Tensor> {
    return ops.fromValues(await this.data<TypedArray>(), this.shape, {
      dtype: this.dtype,
      backend: name,
    });
  }

  /** Converts to another dtype (differentiable between float dtypes). */
  to(dtype: DType): Tensor {
    return ops.cast(this, dtype);
  }

  /** Returns a human-readable summary such as `Tensor(float32, [2,3])`. */
  override toString(): string {
    return `Tensor(${this.dtype}, ${formatShape(this.shape)}${this.disposed ? ', disposed' : ''})`;
  }
}
