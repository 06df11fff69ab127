// A binary min-heap of (id, key) pairs in typed arrays, reused across searches so that a query
// allocates nothing large. A max-heap is the same heap over negated keys (see pushMax / topMax).
export class IdHeap {
  ids: Int32Array;
  keys: Float64Array;
  size = 0;

  constructor(capacity = 64) {
    this.ids = new Int32Array(capacity);
    this.keys = new Float64Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  push(id: number, key: number): void {
    if (this.size === this.ids.length) this.grow();
    const ids = this.ids;
    const keys = this.keys;
    let i = this.size++;
    // sift up
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent] <= key) break;
      ids[i] = ids[parent];
      keys[i] = keys[parent];
      i = parent;
    }
    ids[i] = id;
    keys[i] = key;
  }

  /** Removes the smallest key's pair; read `topId()` / `topKey()` first. */
  pop(): void {
    const ids = this.ids;
    const keys = this.keys;
    const size = --this.size;
    if (size === 0) return;
    const id = ids[size];
    const key = keys[size];
    let i = 0;
    // sift down
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && keys[child + 1] < keys[child]) child++;
      if (keys[child] >= key) break;
      ids[i] = ids[child];
      keys[i] = keys[child];
      i = child;
    }
    ids[i] = id;
    keys[i] = key;
  }

  topId(): number {
    return this.ids[0];
  }

  topKey(): number {
    return this.keys[0];
  }

  private grow(): void {
    const ids = new Int32Array(this.ids.length * 2);
    const keys = new Float64Array(this.keys.length * 2);
    ids.set(this.ids);
    keys.set(this.keys);
    this.ids = ids;
    this.keys = keys;
  }
}
