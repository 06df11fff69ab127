// Op aliases of Tensor: `x.add(y)` is `add(x, y)`. Kept apart from tensor.ts so that the class
// file holds only what a tensor is (storage, views, autograd fields, reading values).
import * as ops from './ops/index.js';
import type { Shape } from './shape.js';
import type { Tensor, TensorLike } from './tensor.js';

/**
 * The op methods of {@link Tensor}; each is documented at the op function of the same name.
 */
export abstract class TensorMethods {
  /** This tensor, typed as the subclass. */
  private get self(): Tensor {
    return this as unknown as Tensor;
  }

  /** See {@link add}. */
  add(other: TensorLike): Tensor {
    return ops.add(this.self, other);
  }
  /** See {@link sub}. */
  sub(other: TensorLike): Tensor {
    return ops.sub(this.self, other);
  }
  /** See {@link mul}. */
  mul(other: TensorLike): Tensor {
    return ops.mul(this.self, other);
  }
  /** See {@link div}. */
  div(other: TensorLike): Tensor {
    return ops.div(this.self, other);
  }
  /** See {@link pow}. */
  pow(exponent: TensorLike): Tensor {
    return ops.pow(this.self, exponent);
  }
  /** See {@link eq}. */
  eq(other: TensorLike): Tensor {
    return ops.eq(this.self, other);
  }
  /** See {@link gt}. */
  gt(other: TensorLike): Tensor {
    return ops.gt(this.self, other);
  }
  /** See {@link lt}. */
  lt(other: TensorLike): Tensor {
    return ops.lt(this.self, other);
  }
  /** See {@link neg}. */
  neg(): Tensor {
    return ops.neg(this.self);
  }
  /** See {@link exp}. */
  exp(): Tensor {
    return ops.exp(this.self);
  }
  /** See {@link log}. */
  log(): Tensor {
    return ops.log(this.self);
  }
  /** See {@link sqrt}. */
  sqrt(): Tensor {
    return ops.sqrt(this.self);
  }
  /** See {@link abs}. */
  abs(): Tensor {
    return ops.abs(this.self);
  }
  /** See {@link tanh}. */
  tanh(): Tensor {
    return ops.tanh(this.self);
  }
  /** See {@link sigmoid}. */
  sigmoid(): Tensor {
    return ops.sigmoid(this.self);
  }
  /** See {@link relu}. */
  relu(): Tensor {
    return ops.relu(this.self);
  }
  /** See {@link gelu}. */
  gelu(options?: ops.GeluOptions): Tensor {
    return ops.gelu(this.self, options);
  }
  /** See {@link silu}. */
  silu(): Tensor {
    return ops.silu(this.self);
  }
  /** See {@link square}. */
  square(): Tensor {
    return ops.square(this.self);
  }
  /** See {@link maskedFill}. */
  maskedFill(mask: Tensor, value: number): Tensor {
    return ops.maskedFill(this.self, mask, value);
  }
  /** See {@link sum}. */
  sum(axis?: ops.Axes, options?: ops.ReduceOptions): Tensor {
    return ops.sum(this.self, axis, options);
  }
  /** See {@link mean}. */
  mean(axis?: ops.Axes, options?: ops.ReduceOptions): Tensor {
    return ops.mean(this.self, axis, options);
  }
  /** See {@link max}. */
  max(axis?: ops.Axes, options?: ops.ReduceOptions): Tensor {
    return ops.max(this.self, axis, options);
  }
  /** See {@link min}. */
  min(axis?: ops.Axes, options?: ops.ReduceOptions): Tensor {
    return ops.min(this.self, axis, options);
  }
  /** See {@link argmax}. */
  argmax(axis?: number, options?: ops.ReduceOptions): Tensor {
    return ops.argmax(this.self, axis, options);
  }
  /** See {@link variance}. */
  var(axis?: ops.Axes, options?: ops.VarianceOptions): Tensor {
    return ops.variance(this.self, axis, options);
  }
  /** See {@link std}. */
  std(axis?: ops.Axes, options?: ops.VarianceOptions): Tensor {
    return ops.std(this.self, axis, options);
  }
  /** See {@link matmul}. */
  matmul(other: Tensor): Tensor {
    return ops.matmul(this.self, other);
  }
  /** See {@link reshape}. */
  reshape(shape: Shape): Tensor {
    return ops.reshape(this.self, shape);
  }
  /** See {@link view}. */
  view(shape: Shape): Tensor {
    return ops.view(this.self, shape);
  }
  /** See {@link flatten}. */
  flatten(startAxis?: number, endAxis?: number): Tensor {
    return ops.flatten(this.self, startAxis, endAxis);
  }
  /** See {@link squeeze}. */
  squeeze(axis?: number): Tensor {
    return ops.squeeze(this.self, axis);
  }
  /** See {@link unsqueeze}. */
  unsqueeze(axis: number): Tensor {
    return ops.unsqueeze(this.self, axis);
  }
  /** See {@link permute}. */
  permute(axes: readonly number[]): Tensor {
    return ops.permute(this.self, axes);
  }
  /** See {@link transpose}. */
  transpose(axis0?: number, axis1?: number): Tensor {
    return ops.transpose(this.self, axis0, axis1);
  }
  /** See {@link expand}. */
  expand(shape: Shape): Tensor {
    return ops.expand(this.self, shape);
  }
  /** See {@link slice}. */
  slice(ranges: readonly (readonly [number, number] | null)[]): Tensor {
    return ops.slice(this.self, ranges);
  }
  /** See {@link narrow}. */
  narrow(axis: number, start: number, length: number): Tensor {
    return ops.narrow(this.self, axis, start, length);
  }
  /** See {@link contiguous}. */
  contiguous(): Tensor {
    return ops.contiguous(this.self);
  }
  /** See {@link softmax}. */
  softmax(axis?: number): Tensor {
    return ops.softmax(this.self, axis);
  }
  /** See {@link logSoftmax}. */
  logSoftmax(axis?: number): Tensor {
    return ops.logSoftmax(this.self, axis);
  }
  /** See {@link logsumexp}. */
  logsumexp(axis?: number, options?: { keepDim?: boolean }): Tensor {
    return ops.logsumexp(this.self, axis, options);
  }
  /** See {@link gather}. */
  gather(axis: number, index: Tensor): Tensor {
    return ops.gather(this.self, axis, index);
  }
  /** See {@link indexSelect}. */
  indexSelect(axis: number, indices: Tensor): Tensor {
    return ops.indexSelect(this.self, axis, indices);
  }
  /** See {@link split}. */
  split(sizes: number | readonly number[], axis?: number): Tensor[] {
    return ops.split(this.self, sizes, axis);
  }
  /** See {@link chunk}. */
  chunk(chunks: number, axis?: number): Tensor[] {
    return ops.chunk(this.self, chunks, axis);
  }
  /** See {@link clamp}. */
  clamp(min?: number, max?: number): Tensor {
    return ops.clamp(this.self, min, max);
  }
  /** See {@link tril}. */
  tril(diagonal?: number): Tensor {
    return ops.tril(this.self, diagonal);
  }
  /** See {@link triu}. */
  triu(diagonal?: number): Tensor {
    return ops.triu(this.self, diagonal);
  }

  /** See {@link rsqrt}. */
  rsqrt(): Tensor {
    return ops.rsqrt(this.self);
  }
  /** See {@link sin}. */
  sin(): Tensor {
    return ops.sin(this.self);
  }
  /** See {@link cos}. */
  cos(): Tensor {
    return ops.cos(this.self);
  }
  /** See {@link sign}. */
  sign(): Tensor {
    return ops.sign(this.self);
  }
  /** See {@link reciprocal}. */
  reciprocal(): Tensor {
    return ops.reciprocal(this.self);
  }
  /** See {@link floor}. */
  floor(): Tensor {
    return ops.floor(this.self);
  }
  /** See {@link erf}. */
  erf(): Tensor {
    return ops.erf(this.self);
  }
  /** See {@link logicalNot}. */
  logicalNot(): Tensor {
    return ops.logicalNot(this.self);
  }
  /** See {@link ne}. */
  ne(other: TensorLike): Tensor {
    return ops.ne(this.self, other);
  }
  /** See {@link le}. */
  le(other: TensorLike): Tensor {
    return ops.le(this.self, other);
  }
  /** See {@link ge}. */
  ge(other: TensorLike): Tensor {
    return ops.ge(this.self, other);
  }
  /** See {@link maximum}. */
  maximum(other: TensorLike): Tensor {
    return ops.maximum(this.self, other);
  }
  /** See {@link minimum}. */
  minimum(other: TensorLike): Tensor {
    return ops.minimum(this.self, other);
  }
  /** See {@link argmin}. */
  argmin(axis?: number, options?: ops.ReduceOptions): Tensor {
    return ops.argmin(this.self, axis, options);
  }
  /** See {@link dropout}. */
  dropout(p: number, options?: ops.DropoutOptions): Tensor {
    return ops.dropout(this.self, p, options);
  }
  /** See {@link where}: elements of this where `condition`, else `other`. */
  where(condition: Tensor, other: TensorLike): Tensor {
    return ops.where(condition, this.self, other);
  }
}
