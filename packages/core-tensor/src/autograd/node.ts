// A node of the autograd graph: the op that made a tensor, what its gradient rule needs, and
// where gradients flow next. Nodes are reference-counted so that disposing the tensors of a
// graph frees the tensors it saved for backward, whether or not backward ever ran.
import type { DType } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { isGradEnabled } from './grad-mode.js';

/** Attributes recorded with an op for its gradient rule. */
export type OpAttributes = Readonly<Record<string, unknown>>;

/** Where the gradient of one input goes: an upstream node, a leaf tensor, or nowhere. */
export type Edge = { node: Node } | { leaf: Tensor } | null;

/** Shape and dtype of an op input, kept for gradient rules (the input itself may be freed). */
export interface InputInfo {
  /** The input's shape. */
  readonly shape: readonly number[];
  /** The input's dtype. */
  readonly dtype: DType;
  /** Whether a gradient is wanted for this input. */
  readonly requiresGrad: boolean;
}

/** One recorded op. */
export class Node {
  refs = 0;
  released = false;

  constructor(
    readonly op: string,
    readonly edges: Edge[],
    readonly inputs: InputInfo[],
    public saved: Tensor[],
    readonly attributes: OpAttributes,
    readonly outputShape: readonly number[],
  ) {
    for (const edge of edges) if (edge && 'node' in edge) edge.node.refs++;
  }

  /** Frees the saved tensors (after backward, or when nothing can reach this node). */
  releaseSaved(): void {
    if (this.released) return;
    this.released = true;
    for (const t of this.saved) t.dispose();
    this.saved = [];
  }

  /** Drops one reference; at zero, frees saved tensors and drops references upstream. */
  unref(): void {
    this.refs--;
    if (this.refs > 0) return;
    this.releaseSaved();
    for (const edge of this.edges) if (edge && 'node' in edge) edge.node.unref();
  }
}

/**
 * Records `output = op(inputs)` when gradients are enabled and some input requires one. `saved`
 * are tensors the gradient rule reads (inputs or outputs of the forward); they are shared, so
 * disposing the originals does not free them.
 */
export function record(
  op: string,
  inputs: readonly Tensor[],
  output: Tensor,
  saved: readonly Tensor[] = [],
  attributes: OpAttributes = {},
): Tensor {
  if (!isGradEnabled() || !inputs.some((t) => t.requiresGrad)) return output;
  const edges: Edge[] = inputs.map((t) => {
    if (!t.requiresGrad) return null;
    if (t.gradFn) return { node: t.gradFn };
    return { leaf: t };
  });
  const info = inputs.map((t) => ({
    shape: t.shape,
    dtype: t.dtype,
    requiresGrad: t.requiresGrad,
  }));
  const node = new Node(
    op,
    edges,
    info,
    saved.map((t) => t.share()),
    attributes,
    output.shape,
  );
  output.attachGradFn(node);
  return output;
}
