// The Tensor class: a strided view of reference-counted backend storage, plus autograd fields.
// Ops live in ops/; the methods here are thin aliases so that `x.add(y)` reads like PyTorch.
import type { Node } from './autograd/node.js';
import type { Backend, KernelTensor } from './backend/types.js';
import type { DType, TypedArray } from './dtype.js';
import { keep, type Storage, trackTensor, untrackTensor } from './engine.js';
import { formatShape, TensorError } from './errors.js';
import * as ops from './ops/index.js';
import type { Shape } from './shape.js';
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
export class Tensor {
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

  // Op aliases: each is documented at the op function of the same name.
  /** See {@link add}. */
  add(other: TensorLike): Tensor {
    return ops.add(this, other);
  }
  /** See {@link sub}. */
  sub(other: TensorLike): Tensor {
    return ops.sub(this, other);
  }
  /** See {@link mul}. */
  mul(other: TensorLike): Tensor {
    return ops.mul(this, other);
  }
  /** See {@link div}. */
  div(other: TensorLike): Tensor {
    return ops.div(this, other);
  }
  /** See {@link pow}. */
  pow(exponent: TensorLike): Tensor {
    return ops.pow(this, exponent);
  }
  /** See {@link eq}. */
  eq(other: TensorLike): Tensor {
    return ops.eq(this, other);
  }
  /** See {@link gt}. */
  gt(other: TensorLike): Tensor {
    return ops.gt(this, other);
  }
  /** See {@link lt}. */
  lt(other: TensorLike): Tensor {
    return ops.lt(this, other);
  }
  /** See {@link neg}. */
  neg(): Tensor {
    return ops.neg(this);
  }
  /** See {@link exp}. */
  exp(): Tensor {
    return ops.exp(this);
  }
  /** See {@link log}. */
  log(): Tensor {
    return ops.log(this);
  }
  /** See {@link sqrt}. */
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  /** See {@link abs}. */
  abs(): Tensor {
    return ops.abs(this);
  }
  /** See {@link tanh}. */
  tanh(): Tensor {
    return ops.tanh(this);
  }
  /** See {@link sigmoid}. */
  sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  /** See {@link relu}. */
  relu(): Tensor {
    return ops.relu(this);
  }
  /** See {@link gelu}. */
  gelu(options?: ops.GeluOptions): Tensor {
    return ops.gelu(this, options);
  }
  /** See {@link silu}. */
  silu(): Tensor {
    return ops.silu(this);
  }
  /** See {@link square}. */
  square(): Tensor {
    return ops.square(this);
  }
  /** See {@link maskedFill}. */
  maskedFill(mask: Tensor, value: number): Tensor {
    return ops.maskedFill(this, mask, value);
  }
  /** See {@link sum}. */
  sum(axis?: ops.Axes, options?: ops.ReduceOptions): Tensor {
    return ops.sum(this, axis, options);
  }
  /** See {@link mean}. */
  mean(axis?: ops.Axes, options?: ops.ReduceOptions): Tensor {
    return ops.mean(this, axis, options);
  }
  /** See {@link max}. */
  max(axis?: ops.Axes, options?: ops.ReduceOptions): Tensor {
    return ops.max(this, axis, options);
  }
  /** See {@link min}. */
  min(axis?: ops.Axes, options?: ops.ReduceOptions): Tensor {
    return ops.min(this, axis, options);
  }
  /** See {@link argmax}. */
  argmax(axis?: number, options?: ops.ReduceOptions): Tensor {
    return ops.argmax(this, axis, options);
  }
  /** See {@link variance}. */
  var(axis?: ops.Axes, options?: ops.VarianceOptions): Tensor {
    return ops.variance(this, axis, options);
  }
  /** See {@link matmul}. */
  matmul(other: Tensor): Tensor {
    return ops.matmul(this, other);
  }
  /** See {@link reshape}. */
  reshape(shape: Shape): Tensor {
    return ops.reshape(this, shape);
  }
  /** See {@link view}. */
  view(shape: Shape): Tensor {
    return ops.view(this, shape);
  }
  /** See {@link flatten}. */
  flatten(startAxis?: number, endAxis?: number): Tensor {
    return ops.flatten(this, startAxis, endAxis);
  }
  /** See {@link squeeze}. */
  squeeze(axis?: number): Tensor {
    return ops.squeeze(this, axis);
  }
  /** See {@link unsqueeze}. */
  unsqueeze(axis: number): Tensor {
    return ops.unsqueeze(this, axis);
  }
  /** See {@link permute}. */
  permute(axes: readonly number[]): Tensor {
    return ops.permute(this, axes);
  }
  /** See {@link transpose}. */
  transpose(axis0?: number, axis1?: number): Tensor {
    return ops.transpose(this, axis0, axis1);
  }
  /** See {@link expand}. */
  expand(shape: Shape): Tensor {
    return ops.expand(this, shape);
  }
  /** See {@link slice}. */
  slice(ranges: readonly (readonly [number, number] | null)[]): Tensor {
    return ops.slice(this, ranges);
  }
  /** See {@link narrow}. */
  narrow(axis: number, start: number, length: number): Tensor {
    return ops.narrow(this, axis, start, length);
  }
  /** See {@link contiguous}. */
  contiguous(): Tensor {
    return ops.contiguous(this);
  }
  /** See {@link softmax}. */
  softmax(axis?: number): Tensor {
    return ops.softmax(this, axis);
  }
  /** See {@link logSoftmax}. */
  logSoftmax(axis?: number): Tensor {
    return ops.logSoftmax(this, axis);
  }
  /** See {@link logsumexp}. */
  logsumexp(axis?: number, options?: { keepDim?: boolean }): Tensor {
    return ops.logsumexp(this, axis, options);
  }
  /** See {@link gather}. */
  gather(axis: number, index: Tensor): Tensor {
    return ops.gather(this, axis, index);
  }
  /** See {@link indexSelect}. */
  indexSelect(axis: number, indices: Tensor): Tensor {
    return ops.indexSelect(this, axis, indices);
  }
  /** See {@link split}. */
  split(sizes: number | readonly number[], axis?: number): Tensor[] {
    return ops.split(this, sizes, axis);
  }
  /** See {@link chunk}. */
  chunk(chunks: number, axis?: number): Tensor[] {
    return ops.chunk(this, chunks, axis);
  }
  /** See {@link clamp}. */
  clamp(min?: number, max?: number): Tensor {
    return ops.clamp(this, min, max);
  }
  /** See {@link tril}. */
  tril(diagonal?: number): Tensor {
    return ops.tril(this, diagonal);
  }
  /** See {@link triu}. */
  triu(diagonal?: number): Tensor {
    return ops.triu(this, diagonal);
  }

  /** See {@link rsqrt}. */
  rsqrt(): Tensor {
    return ops.rsqrt(this);
  }
  /** See {@link sin}. */
  sin(): Tensor {
    return ops.sin(this);
  }
  /** See {@link cos}. */
  cos(): Tensor {
    return ops.cos(this);
  }
  /** See {@link sign}. */
  sign(): Tensor {
    return ops.sign(this);
  }
  /** See {@link reciprocal}. */
  reciprocal(): Tensor {
    return ops.reciprocal(this);
  }
  /** See {@link floor}. */
  floor(): Tensor {
    return ops.floor(this);
  }
  /** See {@link erf}. */
  erf(): Tensor {
    return ops.erf(this);
  }
  /** See {@link logicalNot}. */
  logicalNot(): Tensor {
    return ops.logicalNot(this);
  }
  /** See {@link ne}. */
  ne(other: TensorLike): Tensor {
    return ops.ne(this, other);
  }
  /** See {@link le}. */
  le(other: TensorLike): Tensor {
    return ops.le(this, other);
  }
  /** See {@link ge}. */
  ge(other: TensorLike): Tensor {
    return ops.ge(this, other);
  }
  /** See {@link maximum}. */
  maximum(other: TensorLike): Tensor {
    return ops.maximum(this, other);
  }
  /** See {@link minimum}. */
  minimum(other: TensorLike): Tensor {
    return ops.minimum(this, other);
  }
  /** See {@link argmin}. */
  argmin(axis?: number, options?: ops.ReduceOptions): Tensor {
    return ops.argmin(this, axis, options);
  }
  /** See {@link dropout}. */
  dropout(p: number, options?: ops.DropoutOptions): Tensor {
    return ops.dropout(this, p, options);
  }
  /** See {@link where}: elements of this where `condition`, else `other`. */
  where(condition: Tensor, other: TensorLike): Tensor {
    return ops.where(condition, this, other);
  }

  /** Returns a human-readable summary such as `Tensor(float32, [2,3])`. */
  toString(): string {
    return `Tensor(${this.dtype}, ${formatShape(this.shape)}${this.disposed ? ', disposed' : ''})`;
  }
}
