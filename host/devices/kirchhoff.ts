// Dense linear algebra for conductance networks: Cholesky factorisation and solves of the
// free-node Laplacian L_ff (symmetric positive definite when every free node has a path
// to a clamped node). Row-major n×n Float64Array, caller-owned buffers, no allocation.

/**
 * Overwrite the lower triangle of `a` (n×n, row-major) with L such that a = L·Lᵀ.
 * Column by column (Cholesky–Crout); rows are updated two at a time so that each entry of
 * row j is loaded once per pair (about a third faster in V8 at n = 30).
 */
export function choleskyFactor(a: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let diagonal = a[rowJ + j];
    for (let k = 0; k < j; k++) diagonal -= a[rowJ + k] * a[rowJ + k];
    if (!(diagonal > 0)) throw new Error(`choleskyFactor: matrix not positive definite at row ${j}`);
    const pivot = Math.sqrt(diagonal);
    const inversePivot = 1 / pivot;
    a[rowJ + j] = pivot;
    let i = j + 1;
    for (; i + 1 < n; i += 2) {
      const rowI = i * n;
      const rowNext = rowI + n;
      let sum = a[rowI + j];
      let sumNext = a[rowNext + j];
      for (let k = 0; k < j; k++) {
        const l = a[rowJ + k];
        sum -= a[rowI + k] * l;
        sumNext -= a[rowNext + k] * l;
      }
      a[rowI + j] = sum * inversePivot;
      a[rowNext + j] = sumNext * inversePivot;
    }
    if (i < n) {
      const rowI = i * n;
      let sum = a[rowI + j];
      for (let k = 0; k < j; k++) sum -= a[rowI + k] * a[rowJ + k];
      a[rowI + j] = sum * inversePivot;
    }
  }
}

/** Solve L·Lᵀ·x = b with the factor from choleskyFactor; x may alias b. */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array, x: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= l[row + k] * x[k];
    x[i] = sum / l[row + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let sum = x[i];
    for (let k = i + 1; k < n; k++) sum -= l[k * n + i] * x[k];
    x[i] = sum / l[i * n + i];
  }
}
