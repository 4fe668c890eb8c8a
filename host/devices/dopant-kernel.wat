;; The per-evaluation linear algebra of host/devices/dopant.ts, in WebAssembly with 128-bit
;; SIMD (two f64 lanes): the site–site conductances, the Cholesky factorisation of the
;; free-node Laplacian with two extra right-hand-side rows, and the output dot product.
;; Source of truth for the bytes in dopant-kernel.ts (regenerate with
;; `npx tsx scripts/dopant-kernel.ts`; tests/devices.test.ts checks that they match).
;;
;; Memory (all f64, byte addresses; n sites, row stride n):
;;   system     at 0:          (n + 2) × n. Rows 0..n−1: the Laplacian (lower triangle);
;;                             row n: b (drive), row n + 1: c (collect), written by the host.
;;   hopping    at $hopping:   n × n, exp(−2 r_ij / a) in the lower triangle (j < i).
;;   occupancy  at $occupancy: n, 1/(1 + e^{ε_i/kT}).
;;   boltzmann  at $boltzmann: n, e^{−ε_i/kT}.
;;   diagonal   at $diagonal:  n, the site–electrode conductance sums on entry; the full
;;                             Laplacian diagonal on exit.
;;
;; evaluate() = (L⁻¹c)·(L⁻¹b) where L·Lᵀ is the Laplacian, or NaN if it is not positive
;; definite. Afterwards rows 0..n−1 of system hold L, rows n and n + 1 hold L⁻¹b and L⁻¹c.
(module
  (memory (export "memory") 1)

  (func (export "evaluate")
    (param $n i32) (param $hopping i32) (param $occupancy i32) (param $boltzmann i32) (param $diagonal i32)
    (result f64)
    (call $assemble (local.get $n) (local.get $hopping) (local.get $occupancy) (local.get $boltzmann) (local.get $diagonal))
    (if (i32.eqz (call $factor (local.get $n))) (then (return (f64.const nan))))
    (call $dotRows (local.get $n)))

  ;; Sum of the two lanes.
  (func $lanes (param $v v128) (result f64)
    (f64.add (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v))))

  ;; Laplacian rows 0..n−1: system[i][j] = −g_ij for j < i with
  ;; g_ij = hopping_ij · occupancy_i · occupancy_j / (boltzmann_i + boltzmann_j), and the
  ;; diagonal gains Σ_j g_ij. Two j at a time.
  (func $assemble
    (param $n i32) (param $hopping i32) (param $occupancy i32) (param $boltzmann i32) (param $diagonal i32)
    (local $i i32) (local $jBytes i32) (local $iBytes i32) (local $row i32)
    (local $occupancyI v128) (local $boltzmannI v128) (local $sum v128) (local $g v128)
    (local $rowSum f64) (local $gScalar f64)
    (local.set $i (i32.const 1))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $iBytes (i32.shl (local.get $i) (i32.const 3)))
        (local.set $row (i32.mul (local.get $iBytes) (local.get $n)))
        (local.set $occupancyI (v128.load64_splat (i32.add (local.get $occupancy) (local.get $iBytes))))
        (local.set $boltzmannI (v128.load64_splat (i32.add (local.get $boltzmann) (local.get $iBytes))))
        (local.set $sum (v128.const f64x2 0 0))
        (local.set $jBytes (i32.const 0))
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.gt_u (i32.add (local.get $jBytes) (i32.const 16)) (local.get $iBytes)))
            (local.set $g
              (f64x2.div
                (f64x2.mul
                  (f64x2.mul
                    (v128.load (i32.add (i32.add (local.get $hopping) (local.get $row)) (local.get $jBytes)))
                    (local.get $occupancyI))
                  (v128.load (i32.add (local.get $occupancy) (local.get $jBytes))))
                (f64x2.add (local.get $boltzmannI) (v128.load (i32.add (local.get $boltzmann) (local.get $jBytes))))))
            (v128.store (i32.add (local.get $row) (local.get $jBytes)) (f64x2.neg (local.get $g)))
            (local.set $sum (f64x2.add (local.get $sum) (local.get $g)))
            (v128.store (i32.add (local.get $diagonal) (local.get $jBytes))
              (f64x2.add (v128.load (i32.add (local.get $diagonal) (local.get $jBytes))) (local.get $g)))
            (local.set $jBytes (i32.add (local.get $jBytes) (i32.const 16)))
            (br $pairs)))
        (local.set $rowSum (call $lanes (local.get $sum)))
        ;; An odd i leaves one j.
        (if (i32.lt_u (local.get $jBytes) (local.get $iBytes))
          (then
            (local.set $gScalar
              (f64.div
                (f64.mul
                  (f64.mul
                    (f64.load (i32.add (i32.add (local.get $hopping) (local.get $row)) (local.get $jBytes)))
                    (f64x2.extract_lane 0 (local.get $occupancyI)))
                  (f64.load (i32.add (local.get $occupancy) (local.get $jBytes))))
                (f64.add (f64x2.extract_lane 0 (local.get $boltzmannI)) (f64.load (i32.add (local.get $boltzmann) (local.get $jBytes))))))
            (f64.store (i32.add (local.get $row) (local.get $jBytes)) (f64.neg (local.get $gScalar)))
            (local.set $rowSum (f64.add (local.get $rowSum) (local.get $gScalar)))
            (f64.store (i32.add (local.get $diagonal) (local.get $jBytes))
              (f64.add (f64.load (i32.add (local.get $diagonal) (local.get $jBytes))) (local.get $gScalar)))))
        (f64.store (i32.add (local.get $diagonal) (local.get $iBytes))
          (f64.add (f64.load (i32.add (local.get $diagonal) (local.get $iBytes))) (local.get $rowSum)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))
    ;; The diagonal into the system.
    (local.set $i (i32.const 0))
    (block $copyDone
      (loop $copy
        (br_if $copyDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $iBytes (i32.shl (local.get $i) (i32.const 3)))
        (f64.store (i32.add (i32.mul (local.get $iBytes) (local.get $n)) (local.get $iBytes))
          (f64.load (i32.add (local.get $diagonal) (local.get $iBytes))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $copy))))

  ;; Cholesky–Crout over the (n + 2) × n system at address 0: columns two at a time (j, j + 1),
  ;; rows below them four at a time, every dot product over k < j two k at a time (j is even
  ;; wherever a dot product is taken). Returns 0 if a pivot is not positive.
  (func $factor (param $n i32) (result i32)
    (local $stride i32) (local $rows i32) (local $j i32) (local $jBytes i32) (local $kBytes i32) (local $i i32)
    (local $rowJ i32) (local $rowJ1 i32) (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32)
    (local $lj0 v128) (local $lj1 v128) (local $u0 v128) (local $u1 v128) (local $u2 v128) (local $u3 v128)
    (local $s00 v128) (local $s01 v128) (local $s10 v128) (local $s11 v128)
    (local $s20 v128) (local $s21 v128) (local $s30 v128) (local $s31 v128)
    (local $diagonal0 f64) (local $diagonal1 f64) (local $inversePivot0 f64) (local $inversePivot1 f64)
    (local $l10 f64)
    (local.set $stride (i32.shl (local.get $n) (i32.const 3)))
    (local.set $rows (i32.add (local.get $n) (i32.const 2)))
    (local.set $j (i32.const 0))
    (block $pairsDone
      (loop $columnPairs
        (br_if $pairsDone (i32.ge_u (i32.add (local.get $j) (i32.const 1)) (local.get $n)))
        (local.set $jBytes (i32.shl (local.get $j) (i32.const 3)))
        (local.set $rowJ (i32.mul (local.get $j) (local.get $stride)))
        (local.set $rowJ1 (i32.add (local.get $rowJ) (local.get $stride)))
        ;; The 2 × 2 diagonal block: s00 = Σ L[j]², s01 = Σ L[j+1]·L[j], s11 = Σ L[j+1]².
        (local.set $s00 (v128.const f64x2 0 0))
        (local.set $s01 (v128.const f64x2 0 0))
        (local.set $s11 (v128.const f64x2 0 0))
        (local.set $kBytes (i32.const 0))
        (block $blockDone
          (loop $block
            (br_if $blockDone (i32.ge_u (local.get $kBytes) (local.get $jBytes)))
            (local.set $lj0 (v128.load (i32.add (local.get $rowJ) (local.get $kBytes))))
            (local.set $lj1 (v128.load (i32.add (local.get $rowJ1) (local.get $kBytes))))
            (local.set $s00 (f64x2.add (local.get $s00) (f64x2.mul (local.get $lj0) (local.get $lj0))))
            (local.set $s01 (f64x2.add (local.get $s01) (f64x2.mul (local.get $lj1) (local.get $lj0))))
            (local.set $s11 (f64x2.add (local.get $s11) (f64x2.mul (local.get $lj1) (local.get $lj1))))
            (local.set $kBytes (i32.add (local.get $kBytes) (i32.const 16)))
            (br $block)))
        (local.set $diagonal0 (f64.sub (f64.load (i32.add (local.get $rowJ) (local.get $jBytes))) (call $lanes (local.get $s00))))
        (if (i32.eqz (f64.gt (local.get $diagonal0) (f64.const 0))) (then (return (i32.const 0))))
        (local.set $diagonal0 (f64.sqrt (local.get $diagonal0)))
        (local.set $inversePivot0 (f64.div (f64.const 1) (local.get $diagonal0)))
        (local.set $l10
          (f64.mul (f64.sub (f64.load (i32.add (local.get $rowJ1) (local.get $jBytes))) (call $lanes (local.get $s01)))
            (local.get $inversePivot0)))
        (local.set $diagonal1
          (f64.sub
            (f64.sub (f64.load offset=8 (i32.add (local.get $rowJ1) (local.get $jBytes))) (call $lanes (local.get $s11)))
            (f64.mul (local.get $l10) (local.get $l10))))
        (if (i32.eqz (f64.gt (local.get $diagonal1) (f64.const 0))) (then (return (i32.const 0))))
        (local.set $diagonal1 (f64.sqrt (local.get $diagonal1)))
        (local.set $inversePivot1 (f64.div (f64.const 1) (local.get $diagonal1)))
        (f64.store (i32.add (local.get $rowJ) (local.get $jBytes)) (local.get $diagonal0))
        (f64.store (i32.add (local.get $rowJ1) (local.get $jBytes)) (local.get $l10))
        (f64.store offset=8 (i32.add (local.get $rowJ1) (local.get $jBytes)) (local.get $diagonal1))
        ;; Rows below the block, four at a time: sRc = Σ_k L[r][k]·L[j + c][k].
        (local.set $i (i32.add (local.get $j) (i32.const 2)))
        (block $quadsDone
          (loop $quads
            (br_if $quadsDone (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $rows)))
            (local.set $r0 (i32.mul (local.get $i) (local.get $stride)))
            (local.set $r1 (i32.add (local.get $r0) (local.get $stride)))
            (local.set $r2 (i32.add (local.get $r1) (local.get $stride)))
            (local.set $r3 (i32.add (local.get $r2) (local.get $stride)))
            (local.set $s00 (v128.const f64x2 0 0))
            (local.set $s01 (v128.const f64x2 0 0))
            (local.set $s10 (v128.const f64x2 0 0))
            (local.set $s11 (v128.const f64x2 0 0))
            (local.set $s20 (v128.const f64x2 0 0))
            (local.set $s21 (v128.const f64x2 0 0))
            (local.set $s30 (v128.const f64x2 0 0))
            (local.set $s31 (v128.const f64x2 0 0))
            (local.set $kBytes (i32.const 0))
            (block $dotsDone
              (loop $dots
                (br_if $dotsDone (i32.ge_u (local.get $kBytes) (local.get $jBytes)))
                (local.set $lj0 (v128.load (i32.add (local.get $rowJ) (local.get $kBytes))))
                (local.set $lj1 (v128.load (i32.add (local.get $rowJ1) (local.get $kBytes))))
                (local.set $u0 (v128.load (i32.add (local.get $r0) (local.get $kBytes))))
                (local.set $u1 (v128.load (i32.add (local.get $r1) (local.get $kBytes))))
                (local.set $u2 (v128.load (i32.add (local.get $r2) (local.get $kBytes))))
                (local.set $u3 (v128.load (i32.add (local.get $r3) (local.get $kBytes))))
                (local.set $s00 (f64x2.add (local.get $s00) (f64x2.mul (local.get $u0) (local.get $lj0))))
                (local.set $s01 (f64x2.add (local.get $s01) (f64x2.mul (local.get $u0) (local.get $lj1))))
                (local.set $s10 (f64x2.add (local.get $s10) (f64x2.mul (local.get $u1) (local.get $lj0))))
                (local.set $s11 (f64x2.add (local.get $s11) (f64x2.mul (local.get $u1) (local.get $lj1))))
                (local.set $s20 (f64x2.add (local.get $s20) (f64x2.mul (local.get $u2) (local.get $lj0))))
                (local.set $s21 (f64x2.add (local.get $s21) (f64x2.mul (local.get $u2) (local.get $lj1))))
                (local.set $s30 (f64x2.add (local.get $s30) (f64x2.mul (local.get $u3) (local.get $lj0))))
                (local.set $s31 (f64x2.add (local.get $s31) (f64x2.mul (local.get $u3) (local.get $lj1))))
                (local.set $kBytes (i32.add (local.get $kBytes) (i32.const 16)))
                (br $dots)))
            (call $finishRow (i32.add (local.get $r0) (local.get $jBytes)) (local.get $s00) (local.get $s01)
              (local.get $inversePivot0) (local.get $l10) (local.get $inversePivot1))
            (call $finishRow (i32.add (local.get $r1) (local.get $jBytes)) (local.get $s10) (local.get $s11)
              (local.get $inversePivot0) (local.get $l10) (local.get $inversePivot1))
            (call $finishRow (i32.add (local.get $r2) (local.get $jBytes)) (local.get $s20) (local.get $s21)
              (local.get $inversePivot0) (local.get $l10) (local.get $inversePivot1))
            (call $finishRow (i32.add (local.get $r3) (local.get $jBytes)) (local.get $s30) (local.get $s31)
              (local.get $inversePivot0) (local.get $l10) (local.get $inversePivot1))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $quads)))
        ;; The remaining rows one at a time.
        (block $singlesDone
          (loop $singles
            (br_if $singlesDone (i32.ge_u (local.get $i) (local.get $rows)))
            (local.set $r0 (i32.mul (local.get $i) (local.get $stride)))
            (local.set $s00 (v128.const f64x2 0 0))
            (local.set $s01 (v128.const f64x2 0 0))
            (local.set $kBytes (i32.const 0))
            (block $dotDone
              (loop $dot
                (br_if $dotDone (i32.ge_u (local.get $kBytes) (local.get $jBytes)))
                (local.set $u0 (v128.load (i32.add (local.get $r0) (local.get $kBytes))))
                (local.set $s00 (f64x2.add (local.get $s00) (f64x2.mul (local.get $u0) (v128.load (i32.add (local.get $rowJ) (local.get $kBytes))))))
                (local.set $s01 (f64x2.add (local.get $s01) (f64x2.mul (local.get $u0) (v128.load (i32.add (local.get $rowJ1) (local.get $kBytes))))))
                (local.set $kBytes (i32.add (local.get $kBytes) (i32.const 16)))
                (br $dot)))
            (call $finishRow (i32.add (local.get $r0) (local.get $jBytes)) (local.get $s00) (local.get $s01)
              (local.get $inversePivot0) (local.get $l10) (local.get $inversePivot1))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $singles)))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $columnPairs)))
    ;; Odd n: the last column (j = n − 1, even), then its two right-hand-side rows.
    (if (i32.lt_u (local.get $j) (local.get $n))
      (then
        (local.set $jBytes (i32.shl (local.get $j) (i32.const 3)))
        (local.set $rowJ (i32.mul (local.get $j) (local.get $stride)))
        (local.set $s00 (v128.const f64x2 0 0))
        (local.set $kBytes (i32.const 0))
        (block $lastDone
          (loop $last
            (br_if $lastDone (i32.ge_u (local.get $kBytes) (local.get $jBytes)))
            (local.set $lj0 (v128.load (i32.add (local.get $rowJ) (local.get $kBytes))))
            (local.set $s00 (f64x2.add (local.get $s00) (f64x2.mul (local.get $lj0) (local.get $lj0))))
            (local.set $kBytes (i32.add (local.get $kBytes) (i32.const 16)))
            (br $last)))
        (local.set $diagonal0 (f64.sub (f64.load (i32.add (local.get $rowJ) (local.get $jBytes))) (call $lanes (local.get $s00))))
        (if (i32.eqz (f64.gt (local.get $diagonal0) (f64.const 0))) (then (return (i32.const 0))))
        (local.set $diagonal0 (f64.sqrt (local.get $diagonal0)))
        (local.set $inversePivot0 (f64.div (f64.const 1) (local.get $diagonal0)))
        (f64.store (i32.add (local.get $rowJ) (local.get $jBytes)) (local.get $diagonal0))
        (local.set $i (i32.add (local.get $j) (i32.const 1)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $i) (local.get $rows)))
            (local.set $r0 (i32.mul (local.get $i) (local.get $stride)))
            (local.set $s00 (v128.const f64x2 0 0))
            (local.set $kBytes (i32.const 0))
            (block $tailDotDone
              (loop $tailDot
                (br_if $tailDotDone (i32.ge_u (local.get $kBytes) (local.get $jBytes)))
                (local.set $s00 (f64x2.add (local.get $s00)
                  (f64x2.mul (v128.load (i32.add (local.get $r0) (local.get $kBytes))) (v128.load (i32.add (local.get $rowJ) (local.get $kBytes))))))
                (local.set $kBytes (i32.add (local.get $kBytes) (i32.const 16)))
                (br $tailDot)))
            (f64.store (i32.add (local.get $r0) (local.get $jBytes))
              (f64.mul (f64.sub (f64.load (i32.add (local.get $r0) (local.get $jBytes))) (call $lanes (local.get $s00)))
                (local.get $inversePivot0)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $tail)))))
    (i32.const 1))

  ;; Row r's entries in columns j and j + 1, at address $at (= &system[r][j]), from the dot
  ;; products s0 = Σ_k L[r][k]·L[j][k] and s1 = Σ_k L[r][k]·L[j + 1][k] over k < j.
  (func $finishRow (param $at i32) (param $s0 v128) (param $s1 v128)
    (param $inversePivot0 f64) (param $l10 f64) (param $inversePivot1 f64)
    (local $m f64)
    (local.set $m (f64.mul (f64.sub (f64.load (local.get $at)) (call $lanes (local.get $s0))) (local.get $inversePivot0)))
    (f64.store (local.get $at) (local.get $m))
    (f64.store offset=8 (local.get $at)
      (f64.mul
        (f64.sub (f64.sub (f64.load offset=8 (local.get $at)) (call $lanes (local.get $s1))) (f64.mul (local.get $m) (local.get $l10)))
        (local.get $inversePivot1))))

  ;; Σ_j system[n][j] · system[n + 1][j]: (L⁻¹b)·(L⁻¹c).
  (func $dotRows (param $n i32) (result f64)
    (local $drive i32) (local $collect i32) (local $end i32) (local $sum f64)
    (local.set $drive (i32.shl (i32.mul (local.get $n) (local.get $n)) (i32.const 3)))
    (local.set $collect (i32.add (local.get $drive) (i32.shl (local.get $n) (i32.const 3))))
    (local.set $end (local.get $collect))
    (block $done
      (loop $terms
        (br_if $done (i32.ge_u (local.get $drive) (local.get $end)))
        (local.set $sum (f64.add (local.get $sum) (f64.mul (f64.load (local.get $drive)) (f64.load (local.get $collect)))))
        (local.set $drive (i32.add (local.get $drive) (i32.const 8)))
        (local.set $collect (i32.add (local.get $collect) (i32.const 8)))
        (br $terms)))
    (local.get $sum)))
