import { describe, expect, it } from 'vitest';
import { createRandom } from './random.js';
import { sortByKey } from './sort.js';

describe('sortByKey', () => {
  it.each([0, 1, 2, 15, 16, 17, 100, 5000])(
    'matches Array.prototype.sort for %i items with ties',
    (n) => {
      const random = createRandom(n);
      const keys = Float64Array.from({ length: n }, () => Math.floor(random.nextFloat() * 20));
      const ids = Int32Array.from({ length: n }, (_, i) => (i * 7919) % (n || 1));
      const order = Int32Array.from({ length: n }, (_, i) => i);
      sortByKey(order, n, keys, ids);
      const expected = [...Array(n).keys()].sort((a, b) => keys[a] - keys[b] || ids[a] - ids[b]);
      expect([...order]).toEqual(expected);
    },
  );
});
