// Reverse-mode differentiation, as micrograd's `backward`: order the graph so that every node
// comes before its inputs, seed the root's gradient, and for each node call its rule from the
// gradient table and add what it returns into its inputs' gradients. Around that: memory (each
// node's gradient is freed once its rule ran, saved tensors once nothing needs them) and one
// optimisation, the gradients of slices of one tensor written into one buffer (slice-gradients.ts).
import { keep, tidy } from '../engine.js';
import { formatShape, TensorError } from '../errors.js';
import { onesLike } from '../ops/creation.js';
import { add } from '../ops/elementwise.js';
import { denseCopy } from '../ops/shape.js';
import { sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { noGrad } from './grad-mode.js';
import { GRADIENTS } from './gradients.js';
import type { Edge, Node } from './node.js';
import { SliceGradients } from './slice-gradients.js';

/** Options of {@link backward}. */
export interface BackwardOptions {
  /** Keep the saved tensors so backward can run through the graph again (default false). */
  retainGraph?: boolean;
}

/** Nodes reachable from `root`, ordered so that every node comes before its inputs. */
function topologicalOrder(root: Node): Node[] {
  const order: Node[] = [];
  const visited = new Set<Node>();
  const stack: [Node, boolean][] = [[root, false]];
  while (stack.length) {
    const [node, expanded] = stack.pop()!;
    if (expanded) {
      order.push(node);
      continue;
    }
    if (visited.has(node)) continue;
    visited.add(node);
    stack.push([node, true]);
    for (const edge of node.edges)
      if (edge && 'node' in edge && !visited.has(edge.node)) stack.push([edge.node, false]);
  }
  return order.reverse();
}

function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  if (leaf.disposed) return;
  if (!sameShape(leaf.shape, g.shape)) {
    throw new TensorError(
      'shape_mismatch',
      `backward: gradient ${formatShape(g.shape)} does not match leaf ${formatShape(leaf.shape)}`,
    );
  }
  const previous = leaf.grad;
  // A fresh gradient gets storage of its own: optimizers and clipGradNorm update grads in place,
  // and rules may hand out views shared with other inputs' gradients.
  let fresh: Tensor;
  if (previous) fresh = add(previous, g);
  else if (g.dtype !== leaf.dtype) fresh = g.to(leaf.dtype);
  else fresh = g.storage.refs > 1 || !g.isContiguous || g.offset !== 0 ? denseCopy(g) : g.detach();
  leaf.grad = keep(fresh);
  previous?.dispose();
}

/**
 * Computes gradients of `root` with respect to every leaf that requires one and adds them to
 * the leaves' `.grad`. `root` must be a scalar unless `gradient` (same shape) is given.
 *
 * @example
 * ```ts
 * const loss = crossEntropy(model.forward(x), y);
 * loss.backward();
 * ```
 */
export function backward(root: Tensor, gradient?: Tensor, options: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new TensorError(
      'invalid_argument',
      'backward: tensor does not require grad (no input had requiresGrad)',
    );
  }
  if (gradient && !sameShape(gradient.shape, root.shape)) {
    throw new TensorError(
      'shape_mismatch',
      `backward: gradient ${formatShape(gradient.shape)} does not match ${formatShape(root.shape)}`,
    );
  }
  if (!gradient && root.size !== 1) {
    throw new TensorError(
      'invalid_argument',
      `backward: tensor of shape ${formatShape(root.shape)} is not a scalar; pass a gradient`,
    );
  }
  noGrad(() => {
    const seed = gradient ? gradient.detach() : onesLike(root);
    if (!root.gradFn) {
      accumulateLeaf(root, seed);
      seed.dispose();
      return;
    }
    const grads = new Map<Node, Tensor>([[root.gradFn, keep(seed)]]);
    const slices = new SliceGradients();
    for (const node of topologicalOrder(root.gradFn)) {
      const g = slices.merge(node, take(grads, node));
      if (!g) continue; // no gradient reached this node
      if (slices.defer(node, g)) {
        // A slice of another node: its gradient waits for the sliced node's turn.
        if (!options.retainGraph) node.releaseSaved();
        continue;
      }
      const inputGrads = applyRule(node, g);
      if (!options.retainGraph) node.releaseSaved();
      for (const [i, edge] of node.edges.entries()) sendGradient(grads, edge, inputGrads[i]);
    }
  });
}

function take(grads: Map<Node, Tensor>, node: Node): Tensor | undefined {
  const g = grads.get(node);
  grads.delete(node);
  return g;
}

/** Runs `node`'s gradient rule on its output gradient `g` (consumed); one gradient per input. */
function applyRule(node: Node, g: Tensor): (Tensor | null)[] {
  if (node.released) {
    g.dispose();
    throw new TensorError(
      'invalid_argument',
      `backward: the graph through '${node.op}' was already freed; pass { retainGraph: true } to the first backward`,
    );
  }
  const rule = GRADIENTS[node.op];
  if (!rule) {
    g.dispose();
    throw new TensorError('unsupported', `backward: no gradient rule for op '${node.op}'`);
  }
  // A rule may pass `g` through unchanged; give that input its own handle before g is freed.
  const inputGrads = tidy(() =>
    rule({ grad: g, saved: node.saved, attributes: node.attributes, inputs: node.inputs }),
  ).map((t) => (t === g ? g.detach() : t));
  g.dispose();
  return inputGrads;
}

/** Adds `ig` (consumed) to the gradient of where `edge` leads: a node, a leaf, or nowhere. */
function sendGradient(grads: Map<Node, Tensor>, edge: Edge, ig: Tensor | null | undefined): void {
  if (!ig) return;
  if (!edge) {
    ig.dispose();
    return;
  }
  if ('leaf' in edge) {
    accumulateLeaf(edge.leaf, ig);
    ig.dispose();
    return;
  }
  const previous = grads.get(edge.node);
  grads.set(edge.node, keep(previous ? add(previous, ig) : ig));
  if (previous) {
    previous.dispose();
    ig.dispose();
  }
}
