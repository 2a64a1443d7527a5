/** Correlations against hand-worked values (and scipy's, computed by hand here). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pearson, spearman, averageRanks } from '../../src/eval/correlation.js';

test('pearson: perfect, inverse, and a hand-worked case', () => {
  assert.equal(pearson([1, 2, 3], [2, 4, 6]), 1);
  assert.equal(pearson([1, 2, 3], [3, 2, 1]), -1);
  // x = [1,2,3,4], y = [1,3,2,4]: means 2.5; Σdxdy = 2.25+(-0.5)(0.5)+(0.5)(-0.5)+2.25 = 4; Σdx² = Σdy² = 5 → 0.8
  assert.ok(Math.abs(pearson([1, 2, 3, 4], [1, 3, 2, 4]) - 0.8) < 1e-12);
});

test('spearman uses average ranks for ties (scipy rankdata "average")', () => {
  assert.deepEqual([...averageRanks([10, 20, 20, 5])], [2, 3.5, 3.5, 1]);
  // monotone but non-linear → 1
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [1, 8, 27, 64]) - 1) < 1e-12);
  // x ranks [1,2,3,4], y = [1,2,2,3] ranks [1,2.5,2.5,4]: pearson of ranks = 4.5/√(5·4.5) = 0.9486832980505138
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [1, 2, 2, 3]) - 0.9486832980505138) < 1e-12);
});
