;; The per-evaluation work of host/devices/dopant.ts, in WebAssembly with 128-bit SIMD (two
;; f64 lanes): site energies and occupations, the site–site conductances, the Cholesky
;; factorisation of the free-node Laplacian with two extra right-hand-side rows, and the
;; output dot product. Source of truth for the bytes in dopant-kernel.ts (regenerate with
;; `npx tsx scripts/dopant-kernel.ts`; tests/devices.test.ts checks that they match).
;;
;; Memory, laid out by the host (dopant.ts) and announced once through configure(). All f64,
;; byte addresses; n sites, padded to an even count p (padding sites have zero weights and
;; hopping and are never read back). Matrices are column-major with columns of R entries,
;; R = n + 2 rounded up to even (column stride 8R bytes); per-site arrays are rows of p:
;;   system               at 0, p columns: rows 0..n−1 of column j hold the Laplacian's column j
;;                        (lower triangle, i ≥ j); row n holds b_j (drive), row n + 1 c_j (collect).
;;                        After evaluate: L, and rows n, n + 1 hold (L⁻¹b)_j and (L⁻¹c)_j.
;;   siteHopping          n columns: exp(−2 r_ij / a) at row i of column j, i > j.   (fixed)
;;   baseEnergyKT         p: ε0_i / kT.                                               (fixed)
;;   electrostaticWeight  7 rows of p: w_ie, electrode-major.                         (fixed)
;;   electrodeHopping     8 rows of p: exp(−2 r_ie / a), electrode-major.             (fixed)
;;   electrodeHoppingSum  p: Σ over the 8 electrodes of exp(−2 r_ie / a).             (fixed)
;;   occupancy            p: 1/(1 + e^{ε_i/kT}).
;;   boltzmann            p: e^{−ε_i/kT}.
;;   electrodeFactor      p: site–electrode conductance / hopping factor.
;;   diagonal             p: the Laplacian diagonal.
;;
;; evaluate(V0..V6) = (L⁻¹c)·(L⁻¹b), the dimensionless output current, where L·Lᵀ is the
;; Laplacian; NaN if it is not positive definite. exp(x) exposes the kernel's e^x for tests.
(module
  (memory (export "memory") 1)
  (global $n (mut i32) (i32.const 0))
  (global $siteStride (mut i32) (i32.const 0)) ;; 8p: bytes per row of a per-site array
  (global $columnStride (mut i32) (i32.const 0)) ;; 8R: bytes per matrix column
  (global $siteHopping (mut i32) (i32.const 0))
  (global $baseEnergyKT (mut i32) (i32.const 0))
  (global $electrostaticWeight (mut i32) (i32.const 0))
  (global $electrodeHopping (mut i32) (i32.const 0))
  (global $electrodeHoppingSum (mut i32) (i32.const 0))
  (global $occupancy (mut i32) (i32.const 0))
  (global $boltzmann (mut i32) (i32.const 0))
  (global $electrodeFactor (mut i32) (i32.const 0))
  (global $diagonal (mut i32) (i32.const 0))
  (global $leverOverKT (mut f64) (f64.const 0))

  (func (export "configure")
    (param $n i32) (param $padded i32) (param $columnRows i32) (param $siteHopping i32) (param $baseEnergyKT i32) (param $electrostaticWeight i32)
    (param $electrodeHopping i32) (param $electrodeHoppingSum i32) (param $occupancy i32) (param $boltzmann i32)
    (param $electrodeFactor i32) (param $diagonal i32) (param $leverOverKT f64)
    (global.set $n (local.get $n))
    (global.set $siteStride (i32.shl (local.get $padded) (i32.const 3)))
    (global.set $columnStride (i32.shl (local.get $columnRows) (i32.const 3)))
    (global.set $siteHopping (local.get $siteHopping))
    (global.set $baseEnergyKT (local.get $baseEnergyKT))
    (global.set $electrostaticWeight (local.get $electrostaticWeight))
    (global.set $electrodeHopping (local.get $electrodeHopping))
    (global.set $electrodeHoppingSum (local.get $electrodeHoppingSum))
    (global.set $occupancy (local.get $occupancy))
    (global.set $boltzmann (local.get $boltzmann))
    (global.set $electrodeFactor (local.get $electrodeFactor))
    (global.set $diagonal (local.get $diagonal))
    (global.set $leverOverKT (local.get $leverOverKT)))

  (func (export "evaluate")
    (param $v0 f64) (param $v1 f64) (param $v2 f64) (param $v3 f64) (param $v4 f64) (param $v5 f64) (param $v6 f64)
    (result f64)
    (call $sites (local.get $v0) (local.get $v1) (local.get $v2) (local.get $v3) (local.get $v4) (local.get $v5) (local.get $v6))
    (call $assemble)
    (if (i32.eqz (call $factor)) (then (return (f64.const nan))))
    (call $dotRows))

  ;; The kernel's e^x on one number, for tests/devices.test.ts (which holds it to Math.exp).
  (func (export "exp") (param $x f64) (result f64)
    (f64x2.extract_lane 0 (call $exp (f64x2.splat (local.get $x)))))

  ;; Sum of the two lanes.
  (func $lanes (param $v v128) (result f64)
    (f64.add (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v))))

  ;; Σ_e row_e[i] · V_e over the 7 activation electrodes, for sites i, i + 1 (rows of the
  ;; electrode-major array whose row 0 entry for site i is at $at, stride 8p), in electrode
  ;; order 0..6.
  (func $electrodeSum (param $at i32) (param $v0 v128) (param $v1 v128) (param $v2 v128) (param $v3 v128)
    (param $v4 v128) (param $v5 v128) (param $v6 v128) (result v128)
    (f64x2.add
      (f64x2.add
        (f64x2.add
          (f64x2.add
            (f64x2.add
              (f64x2.add
                (f64x2.mul (v128.load (local.get $at)) (local.get $v0))
                (f64x2.mul (v128.load (i32.add (local.get $at) (global.get $siteStride))) (local.get $v1)))
              (f64x2.mul (v128.load (i32.add (local.get $at) (i32.mul (global.get $siteStride) (i32.const 2)))) (local.get $v2)))
            (f64x2.mul (v128.load (i32.add (local.get $at) (i32.mul (global.get $siteStride) (i32.const 3)))) (local.get $v3)))
          (f64x2.mul (v128.load (i32.add (local.get $at) (i32.mul (global.get $siteStride) (i32.const 4)))) (local.get $v4)))
        (f64x2.mul (v128.load (i32.add (local.get $at) (i32.mul (global.get $siteStride) (i32.const 5)))) (local.get $v5)))
      (f64x2.mul (v128.load (i32.add (local.get $at) (i32.mul (global.get $siteStride) (i32.const 6)))) (local.get $v6))))

  ;; e^x in both lanes, for |x| ≤ 300 (the clamp on ε/kT): x = k·ln2 + r with k = nearest(x/ln2)
  ;; and |r| ≤ ln2/2 (Cody–Waite: ln2 = LN2_HI + LN2_LO, LN2_HI with 40 significant bits so
  ;; k·LN2_HI is exact), e^r by its Taylor series to r¹³/13! (truncation < 5e-18 relative),
  ;; times 2^k built in the exponent bits. Agrees with Math.exp to within 1 ulp (tested).
  (func $exp (param $x v128) (result v128)
    (local $k v128) (local $r v128) (local $p v128)
    (local.set $k (f64x2.nearest (f64x2.mul (local.get $x) (v128.const f64x2 1.4426950408889634 1.4426950408889634))))
    (local.set $r
      (f64x2.sub
        (f64x2.sub (local.get $x) (f64x2.mul (local.get $k) (v128.const f64x2 0x1.62e42fefa4p-1 0x1.62e42fefa4p-1)))
        (f64x2.mul (local.get $k) (v128.const f64x2 -1.7239444525614835e-13 -1.7239444525614835e-13))))
    (local.set $p (v128.const f64x2 1.6059043836821613e-10 1.6059043836821613e-10)) ;; 1/13!
    (local.set $p (f64x2.add (v128.const f64x2 2.08767569878681e-09 2.08767569878681e-09) (f64x2.mul (local.get $p) (local.get $r))))
    (local.set $p (f64x2.add (v128.const f64x2 2.505210838544172e-08 2.505210838544172e-08) (f64x2.mul (local.get $p) (local.get $r))))
    (local.set $p (f64x2.add (v128.const f64x2 2.755731922398589e-07 2.755731922398589e-07) (f64x2.mul (local.get $p) (local.get $r))))
    (local.set $p (f64x2.add (v128.const f64x2 2.7557319223985893e-06 2.7557319223985893e-06) (f64x2.mul (local.get $p) (local.get $r))))
    (local.set $p (f64x2.add (v128.const f64x2 2.48015873015873e-05 2.48015873015873e-05) (f64x2.mul (local.get $p) (local.get $r))))
    (local.set $p (f64x2.add (v128.const f64x2 0.0001984126984126984 0.0001984126984126984) (f64x2.mul (local.get $p) (local.get $r))))
    (local.set $p (f64x2.add (v128.const f64x2 0.001388888888888889 0.001388888888888889) (f64x2.mul (local.get $p) (local.get $r))))
    (local.set $p (f64x2.add (v128.const f64x2 0.008333333333333333 0.008333333333333333) (f64x2.mul (local.get $p) (local.get $r))))
    (local.set $p (f64x2.add (v128.const f64x2 0.041666666666666664 0.041666666666666664) (f64x2.mul (local.get $p) (local.get $r))))
    (local.set $p (f64x2.add (v128.const f64x2 0.16666666666666666 0.16666666666666666) (f64x2.mul (local.get $p) (local.get $r))))
    (local.set $p (f64x2.add (v128.const f64x2 0.5 0.5) (f64x2.mul (local.get $p) (local.get $r))))
    (local.set $p (f64x2.add (v128.const f64x2 1 1) (f64x2.mul (local.get $p) (local.get $r))))
    (local.set $p (f64x2.add (v128.const f64x2 1 1) (f64x2.mul (local.get $p) (local.get $r))))
    ;; 2^k: (k + 1023) in the exponent field.
    (f64x2.mul (local.get $p)
      (i64x2.shl
        (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k))) (v128.const i64x2 1023 1023))
        (i32.const 52))))

  ;; Per site, two at a time: ε_i/kT = clamp(ε0_i/kT − leverOverKT · Σ_e w_ie V_e, ±300),
  ;; boltzmann e^{−ε/kT}, occupancy, electrodeFactor (site–electrode conductance over hopping:
  ;; the electrode is a level at ε = 0), the electrode part of the Laplacian diagonal, and the
  ;; right-hand sides b_i = Σ_e G_ie V_e and c_i = G_i,output (rows n, n + 1 of column i).
  (func $sites (param $v0 f64) (param $v1 f64) (param $v2 f64) (param $v3 f64) (param $v4 f64) (param $v5 f64) (param $v6 f64)
    (local $V0 v128) (local $V1 v128) (local $V2 v128) (local $V3 v128) (local $V4 v128) (local $V5 v128) (local $V6 v128)
    (local $lever v128) (local $iBytes i32) (local $end i32) (local $drive i32) (local $column i32)
    (local $boltzmann v128) (local $occupancy v128) (local $toElectrode v128)
    (local $b v128) (local $c v128)
    (local.set $V0 (f64x2.splat (local.get $v0)))
    (local.set $V1 (f64x2.splat (local.get $v1)))
    (local.set $V2 (f64x2.splat (local.get $v2)))
    (local.set $V3 (f64x2.splat (local.get $v3)))
    (local.set $V4 (f64x2.splat (local.get $v4)))
    (local.set $V5 (f64x2.splat (local.get $v5)))
    (local.set $V6 (f64x2.splat (local.get $v6)))
    (local.set $lever (f64x2.splat (global.get $leverOverKT)))
    (local.set $drive (i32.shl (global.get $n) (i32.const 3))) ;; row n of column 0
    (local.set $end (global.get $siteStride))
    ;; Three passes over the site pairs, each with a short body, so that the processor overlaps
    ;; consecutive pairs (one pass doing all of it is bound by the latency of each pair's chain).
    ;; First −ε/kT, into boltzmann.
    (local.set $iBytes (i32.const 0))
    (block $energiesDone
      (loop $energies
        (br_if $energiesDone (i32.ge_u (local.get $iBytes) (local.get $end)))
        (v128.store (i32.add (global.get $boltzmann) (local.get $iBytes))
          (f64x2.neg
            (f64x2.max (v128.const f64x2 -300 -300)
              (f64x2.min (v128.const f64x2 300 300)
                (f64x2.sub
                  (v128.load (i32.add (global.get $baseEnergyKT) (local.get $iBytes)))
                  (f64x2.mul (local.get $lever)
                    (call $electrodeSum (i32.add (global.get $electrostaticWeight) (local.get $iBytes))
                      (local.get $V0) (local.get $V1) (local.get $V2) (local.get $V3) (local.get $V4) (local.get $V5) (local.get $V6))))))))
        (local.set $iBytes (i32.add (local.get $iBytes) (i32.const 16)))
        (br $energies)))
    ;; Then boltzmann = e^{−ε/kT} in place.
    (local.set $iBytes (i32.const 0))
    (block $exponentialsDone
      (loop $exponentials
        (br_if $exponentialsDone (i32.ge_u (local.get $iBytes) (local.get $end)))
        (v128.store (i32.add (global.get $boltzmann) (local.get $iBytes))
          (call $exp (v128.load (i32.add (global.get $boltzmann) (local.get $iBytes)))))
        (local.set $iBytes (i32.add (local.get $iBytes) (i32.const 16)))
        (br $exponentials)))
    ;; Then everything that follows from boltzmann.
    (local.set $iBytes (i32.const 0))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $iBytes) (local.get $end)))
        (local.set $boltzmann (v128.load (i32.add (global.get $boltzmann) (local.get $iBytes))))
        (local.set $occupancy (f64x2.div (local.get $boltzmann) (f64x2.add (v128.const f64x2 1 1) (local.get $boltzmann))))
        (local.set $toElectrode
          (f64x2.div (f64x2.mul (local.get $occupancy) (v128.const f64x2 0.5 0.5)) (f64x2.add (local.get $boltzmann) (v128.const f64x2 1 1))))
        (v128.store (i32.add (global.get $occupancy) (local.get $iBytes)) (local.get $occupancy))
        (v128.store (i32.add (global.get $electrodeFactor) (local.get $iBytes)) (local.get $toElectrode))
        (v128.store (i32.add (global.get $diagonal) (local.get $iBytes))
          (f64x2.mul (v128.load (i32.add (global.get $electrodeHoppingSum) (local.get $iBytes))) (local.get $toElectrode)))
        (local.set $b
          (f64x2.mul
            (call $electrodeSum (i32.add (global.get $electrodeHopping) (local.get $iBytes))
              (local.get $V0) (local.get $V1) (local.get $V2) (local.get $V3) (local.get $V4) (local.get $V5) (local.get $V6))
            (local.get $toElectrode)))
        (local.set $c
          (f64x2.mul
            (v128.load (i32.add (i32.add (global.get $electrodeHopping) (i32.mul (global.get $siteStride) (i32.const 7))) (local.get $iBytes)))
            (local.get $toElectrode)))
        ;; (b_i, c_i) into rows n, n + 1 of column i, and the same for i + 1.
        (local.set $column (i32.add (local.get $drive) (i32.mul (i32.shr_u (local.get $iBytes) (i32.const 3)) (global.get $columnStride))))
        (v128.store (local.get $column) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $b) (local.get $c)))
        (v128.store (i32.add (local.get $column) (global.get $columnStride))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $b) (local.get $c)))
        (local.set $iBytes (i32.add (local.get $iBytes) (i32.const 16)))
        (br $pairs))))

  ;; The Laplacian, column by column: row i of column j gets −g_ij for i > j with
  ;; g_ij = hopping_ij · occupancy_i · occupancy_j / (boltzmann_i + boltzmann_j) (the
  ;; operations in that order, as the original JavaScript), the diagonal gains g_ij at both
  ;; ends, and it lands on the matrix diagonal at the end. Two i at a time, pairs always
  ;; starting at an even i: a pair of diagonal entries read right after only half of it was
  ;; written defeats store-to-load forwarding and stalls (≈ 30% of this pass).
  (func $assemble
    (local $n i32) (local $stride i32) (local $j i32) (local $jBytes i32) (local $iBytes i32) (local $nBytes i32) (local $column i32)
    (local $hopping i32) (local $occupancyJ v128) (local $boltzmannJ v128) (local $sum v128) (local $g v128)
    (local $columnSum f64)
    (local.set $n (global.get $n))
    (local.set $nBytes (i32.shl (local.get $n) (i32.const 3)))
    (local.set $stride (global.get $columnStride))
    (local.set $j (i32.const 0))
    (block $columnsDone
      (loop $columns
        (br_if $columnsDone (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $jBytes (i32.shl (local.get $j) (i32.const 3)))
        (local.set $column (i32.mul (local.get $j) (local.get $stride)))
        (local.set $hopping (i32.add (global.get $siteHopping) (local.get $column)))
        (local.set $occupancyJ (v128.load64_splat (i32.add (global.get $occupancy) (local.get $jBytes))))
        (local.set $boltzmannJ (v128.load64_splat (i32.add (global.get $boltzmann) (local.get $jBytes))))
        (local.set $sum (v128.const f64x2 0 0))
        (local.set $columnSum (f64.const 0))
        (local.set $iBytes (i32.add (local.get $jBytes) (i32.const 8)))
        ;; An odd first i goes alone.
        (if (i32.and (i32.lt_u (local.get $iBytes) (local.get $nBytes)) (i32.ne (i32.and (local.get $iBytes) (i32.const 8)) (i32.const 0)))
          (then
            (local.set $columnSum (call $conductance (local.get $iBytes) (local.get $column) (local.get $hopping) (local.get $occupancyJ) (local.get $boltzmannJ)))
            (local.set $iBytes (i32.add (local.get $iBytes) (i32.const 8)))))
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.gt_u (i32.add (local.get $iBytes) (i32.const 16)) (local.get $nBytes)))
            (local.set $g
              (f64x2.div
                (f64x2.mul
                  (f64x2.mul
                    (v128.load (i32.add (local.get $hopping) (local.get $iBytes)))
                    (v128.load (i32.add (global.get $occupancy) (local.get $iBytes))))
                  (local.get $occupancyJ))
                (f64x2.add (v128.load (i32.add (global.get $boltzmann) (local.get $iBytes))) (local.get $boltzmannJ))))
            (v128.store (i32.add (local.get $column) (local.get $iBytes)) (f64x2.neg (local.get $g)))
            (local.set $sum (f64x2.add (local.get $sum) (local.get $g)))
            (v128.store (i32.add (global.get $diagonal) (local.get $iBytes))
              (f64x2.add (v128.load (i32.add (global.get $diagonal) (local.get $iBytes))) (local.get $g)))
            (local.set $iBytes (i32.add (local.get $iBytes) (i32.const 16)))
            (br $pairs)))
        (local.set $columnSum (f64.add (local.get $columnSum) (call $lanes (local.get $sum))))
        ;; An odd n leaves the last i alone.
        (if (i32.lt_u (local.get $iBytes) (local.get $nBytes))
          (then
            (local.set $columnSum
              (f64.add (local.get $columnSum)
                (call $conductance (local.get $iBytes) (local.get $column) (local.get $hopping) (local.get $occupancyJ) (local.get $boltzmannJ))))))
        (f64.store (i32.add (global.get $diagonal) (local.get $jBytes))
          (f64.add (f64.load (i32.add (global.get $diagonal) (local.get $jBytes))) (local.get $columnSum)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $columns)))
    ;; The diagonal into the matrix.
    (local.set $j (i32.const 0))
    (block $copyDone
      (loop $copy
        (br_if $copyDone (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $jBytes (i32.shl (local.get $j) (i32.const 3)))
        (f64.store (i32.add (i32.mul (local.get $j) (local.get $stride)) (local.get $jBytes))
          (f64.load (i32.add (global.get $diagonal) (local.get $jBytes))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $copy))))

  ;; One entry of $assemble on its own: g_ij for row i (at byte offset $iBytes) of the column
  ;; at $column, stored as −g_ij and added to diagonal_i; returns g_ij.
  (func $conductance (param $iBytes i32) (param $column i32) (param $hopping i32) (param $occupancyJ v128) (param $boltzmannJ v128)
    (result f64)
    (local $g f64)
    (local.set $g
      (f64.div
        (f64.mul
          (f64.mul
            (f64.load (i32.add (local.get $hopping) (local.get $iBytes)))
            (f64.load (i32.add (global.get $occupancy) (local.get $iBytes))))
          (f64x2.extract_lane 0 (local.get $occupancyJ)))
        (f64.add (f64.load (i32.add (global.get $boltzmann) (local.get $iBytes))) (f64x2.extract_lane 0 (local.get $boltzmannJ)))))
    (f64.store (i32.add (local.get $column) (local.get $iBytes)) (f64.neg (local.get $g)))
    (f64.store (i32.add (global.get $diagonal) (local.get $iBytes))
      (f64.add (f64.load (i32.add (global.get $diagonal) (local.get $iBytes))) (local.get $g)))
    (local.get $g))

  ;; Cholesky factorisation, column-oriented (L[i][j] = (A[i][j] − Σ_{k<j} L[i][k]·L[j][k]) / L[j][j]),
  ;; over all R rows of each column, so that rows n and n + 1 become L⁻¹b and L⁻¹c (the same
  ;; formula on an extra row is forward substitution). Columns two at a time (j, j + 1); each
  ;; entry is accumulated over k = 0, 1, ... in order, in its own lane, exactly as the original
  ;; scalar JavaScript did, so L is bitwise the same for the same matrix. Rows below the 2 × 2
  ;; diagonal block go eight at a time (four vectors), then two at a time. Returns 0 if a pivot
  ;; is not positive.
  (func $factor (result i32)
    (local $n i32) (local $stride i32) (local $rowsEnd i32) (local $j i32) (local $jBytes i32) (local $iBytes i32)
    (local $columnJ i32) (local $columnJ1 i32) (local $columnK i32) (local $columnsEnd i32)
    (local $lj v128) (local $lj1 v128) (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $pivot0 f64) (local $pivot1 f64) (local $inversePivot0 v128) (local $inversePivot1 v128) (local $l10 v128)
    (local $diagonal f64)
    (local.set $n (global.get $n))
    (local.set $stride (global.get $columnStride))
    (local.set $rowsEnd (local.get $stride)) ;; byte offset of the end of a column
    (local.set $j (i32.const 0))
    (block $pairsDone
      (loop $columnPairs
        (br_if $pairsDone (i32.ge_u (i32.add (local.get $j) (i32.const 1)) (local.get $n)))
        (local.set $jBytes (i32.shl (local.get $j) (i32.const 3)))
        (local.set $columnJ (i32.mul (local.get $j) (local.get $stride)))
        (local.set $columnJ1 (i32.add (local.get $columnJ) (local.get $stride)))
        ;; The 2 × 2 diagonal block: a0 = (A[j][j], A[j+1][j]) and b0 = (·, A[j+1][j+1]) less Σ_k.
        (local.set $a0 (v128.load (i32.add (local.get $columnJ) (local.get $jBytes))))
        (local.set $b0 (v128.load (i32.add (local.get $columnJ1) (local.get $jBytes))))
        (local.set $columnK (i32.const 0))
        (block $blockDone
          (loop $block
            (br_if $blockDone (i32.ge_u (local.get $columnK) (local.get $columnJ)))
            (local.set $c0 (v128.load (i32.add (local.get $columnK) (local.get $jBytes)))) ;; (L[j][k], L[j+1][k])
            (local.set $a0 (f64x2.sub (local.get $a0) (f64x2.mul (local.get $c0) (v128.load64_splat (i32.add (local.get $columnK) (local.get $jBytes))))))
            (local.set $b0 (f64x2.sub (local.get $b0) (f64x2.mul (local.get $c0) (v128.load64_splat offset=8 (i32.add (local.get $columnK) (local.get $jBytes))))))
            (local.set $columnK (i32.add (local.get $columnK) (local.get $stride)))
            (br $block)))
        (local.set $diagonal (f64x2.extract_lane 0 (local.get $a0)))
        (if (i32.eqz (f64.gt (local.get $diagonal) (f64.const 0))) (then (return (i32.const 0))))
        (local.set $pivot0 (f64.sqrt (local.get $diagonal)))
        (local.set $inversePivot0 (f64x2.splat (f64.div (f64.const 1) (local.get $pivot0))))
        (local.set $l10 (f64x2.splat (f64.mul (f64x2.extract_lane 1 (local.get $a0)) (f64x2.extract_lane 0 (local.get $inversePivot0)))))
        (local.set $diagonal
          (f64.sub (f64x2.extract_lane 1 (local.get $b0)) (f64.mul (f64x2.extract_lane 0 (local.get $l10)) (f64x2.extract_lane 0 (local.get $l10)))))
        (if (i32.eqz (f64.gt (local.get $diagonal) (f64.const 0))) (then (return (i32.const 0))))
        (local.set $pivot1 (f64.sqrt (local.get $diagonal)))
        (local.set $inversePivot1 (f64x2.splat (f64.div (f64.const 1) (local.get $pivot1))))
        (f64.store (i32.add (local.get $columnJ) (local.get $jBytes)) (local.get $pivot0))
        (f64.store offset=8 (i32.add (local.get $columnJ) (local.get $jBytes)) (f64x2.extract_lane 0 (local.get $l10)))
        (f64.store offset=8 (i32.add (local.get $columnJ1) (local.get $jBytes)) (local.get $pivot1))
        ;; Rows i ≥ j + 2, eight at a time: a = column j, b = column j + 1.
        (local.set $iBytes (i32.add (local.get $jBytes) (i32.const 16)))
        (block $eightsDone
          (loop $eights
            (br_if $eightsDone (i32.gt_u (i32.add (local.get $iBytes) (i32.const 64)) (local.get $rowsEnd)))
            (local.set $a0 (v128.load (i32.add (local.get $columnJ) (local.get $iBytes))))
            (local.set $a1 (v128.load offset=16 (i32.add (local.get $columnJ) (local.get $iBytes))))
            (local.set $a2 (v128.load offset=32 (i32.add (local.get $columnJ) (local.get $iBytes))))
            (local.set $a3 (v128.load offset=48 (i32.add (local.get $columnJ) (local.get $iBytes))))
            (local.set $b0 (v128.load (i32.add (local.get $columnJ1) (local.get $iBytes))))
            (local.set $b1 (v128.load offset=16 (i32.add (local.get $columnJ1) (local.get $iBytes))))
            (local.set $b2 (v128.load offset=32 (i32.add (local.get $columnJ1) (local.get $iBytes))))
            (local.set $b3 (v128.load offset=48 (i32.add (local.get $columnJ1) (local.get $iBytes))))
            (local.set $columnK (i32.const 0))
            (block $kDone
              (loop $k
                (br_if $kDone (i32.ge_u (local.get $columnK) (local.get $columnJ)))
                (local.set $lj (v128.load64_splat (i32.add (local.get $columnK) (local.get $jBytes))))
                (local.set $lj1 (v128.load64_splat offset=8 (i32.add (local.get $columnK) (local.get $jBytes))))
                (local.set $c0 (v128.load (i32.add (local.get $columnK) (local.get $iBytes))))
                (local.set $c1 (v128.load offset=16 (i32.add (local.get $columnK) (local.get $iBytes))))
                (local.set $c2 (v128.load offset=32 (i32.add (local.get $columnK) (local.get $iBytes))))
                (local.set $c3 (v128.load offset=48 (i32.add (local.get $columnK) (local.get $iBytes))))
                (local.set $a0 (f64x2.sub (local.get $a0) (f64x2.mul (local.get $c0) (local.get $lj))))
                (local.set $a1 (f64x2.sub (local.get $a1) (f64x2.mul (local.get $c1) (local.get $lj))))
                (local.set $a2 (f64x2.sub (local.get $a2) (f64x2.mul (local.get $c2) (local.get $lj))))
                (local.set $a3 (f64x2.sub (local.get $a3) (f64x2.mul (local.get $c3) (local.get $lj))))
                (local.set $b0 (f64x2.sub (local.get $b0) (f64x2.mul (local.get $c0) (local.get $lj1))))
                (local.set $b1 (f64x2.sub (local.get $b1) (f64x2.mul (local.get $c1) (local.get $lj1))))
                (local.set $b2 (f64x2.sub (local.get $b2) (f64x2.mul (local.get $c2) (local.get $lj1))))
                (local.set $b3 (f64x2.sub (local.get $b3) (f64x2.mul (local.get $c3) (local.get $lj1))))
                (local.set $columnK (i32.add (local.get $columnK) (local.get $stride)))
                (br $k)))
            (local.set $a0 (f64x2.mul (local.get $a0) (local.get $inversePivot0)))
            (local.set $a1 (f64x2.mul (local.get $a1) (local.get $inversePivot0)))
            (local.set $a2 (f64x2.mul (local.get $a2) (local.get $inversePivot0)))
            (local.set $a3 (f64x2.mul (local.get $a3) (local.get $inversePivot0)))
            (v128.store (i32.add (local.get $columnJ) (local.get $iBytes)) (local.get $a0))
            (v128.store offset=16 (i32.add (local.get $columnJ) (local.get $iBytes)) (local.get $a1))
            (v128.store offset=32 (i32.add (local.get $columnJ) (local.get $iBytes)) (local.get $a2))
            (v128.store offset=48 (i32.add (local.get $columnJ) (local.get $iBytes)) (local.get $a3))
            (v128.store (i32.add (local.get $columnJ1) (local.get $iBytes))
              (f64x2.mul (f64x2.sub (local.get $b0) (f64x2.mul (local.get $a0) (local.get $l10))) (local.get $inversePivot1)))
            (v128.store offset=16 (i32.add (local.get $columnJ1) (local.get $iBytes))
              (f64x2.mul (f64x2.sub (local.get $b1) (f64x2.mul (local.get $a1) (local.get $l10))) (local.get $inversePivot1)))
            (v128.store offset=32 (i32.add (local.get $columnJ1) (local.get $iBytes))
              (f64x2.mul (f64x2.sub (local.get $b2) (f64x2.mul (local.get $a2) (local.get $l10))) (local.get $inversePivot1)))
            (v128.store offset=48 (i32.add (local.get $columnJ1) (local.get $iBytes))
              (f64x2.mul (f64x2.sub (local.get $b3) (f64x2.mul (local.get $a3) (local.get $l10))) (local.get $inversePivot1)))
            (local.set $iBytes (i32.add (local.get $iBytes) (i32.const 64)))
            (br $eights)))
        ;; The remaining rows two at a time.
        (block $twosDone
          (loop $twos
            (br_if $twosDone (i32.ge_u (local.get $iBytes) (local.get $rowsEnd)))
            (local.set $a0 (v128.load (i32.add (local.get $columnJ) (local.get $iBytes))))
            (local.set $b0 (v128.load (i32.add (local.get $columnJ1) (local.get $iBytes))))
            (local.set $columnK (i32.const 0))
            (block $kDone
              (loop $k
                (br_if $kDone (i32.ge_u (local.get $columnK) (local.get $columnJ)))
                (local.set $c0 (v128.load (i32.add (local.get $columnK) (local.get $iBytes))))
                (local.set $a0 (f64x2.sub (local.get $a0) (f64x2.mul (local.get $c0) (v128.load64_splat (i32.add (local.get $columnK) (local.get $jBytes))))))
                (local.set $b0 (f64x2.sub (local.get $b0) (f64x2.mul (local.get $c0) (v128.load64_splat offset=8 (i32.add (local.get $columnK) (local.get $jBytes))))))
                (local.set $columnK (i32.add (local.get $columnK) (local.get $stride)))
                (br $k)))
            (local.set $a0 (f64x2.mul (local.get $a0) (local.get $inversePivot0)))
            (v128.store (i32.add (local.get $columnJ) (local.get $iBytes)) (local.get $a0))
            (v128.store (i32.add (local.get $columnJ1) (local.get $iBytes))
              (f64x2.mul (f64x2.sub (local.get $b0) (f64x2.mul (local.get $a0) (local.get $l10))) (local.get $inversePivot1)))
            (local.set $iBytes (i32.add (local.get $iBytes) (i32.const 16)))
            (br $twos)))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $columnPairs)))
    ;; Odd n: the last column (j = n − 1), then its rows n and n + 1, one by one.
    (if (i32.lt_u (local.get $j) (local.get $n))
      (then
        (local.set $jBytes (i32.shl (local.get $j) (i32.const 3)))
        (local.set $columnJ (i32.mul (local.get $j) (local.get $stride)))
        (local.set $columnsEnd (i32.add (local.get $jBytes) (i32.const 24))) ;; rows j .. j + 2 = n + 1
        (local.set $iBytes (local.get $jBytes))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_u (local.get $iBytes) (local.get $columnsEnd)))
            (local.set $diagonal (f64.load (i32.add (local.get $columnJ) (local.get $iBytes))))
            (local.set $columnK (i32.const 0))
            (block $kDone
              (loop $k
                (br_if $kDone (i32.ge_u (local.get $columnK) (local.get $columnJ)))
                (local.set $diagonal
                  (f64.sub (local.get $diagonal)
                    (f64.mul (f64.load (i32.add (local.get $columnK) (local.get $iBytes))) (f64.load (i32.add (local.get $columnK) (local.get $jBytes))))))
                (local.set $columnK (i32.add (local.get $columnK) (local.get $stride)))
                (br $k)))
            (if (i32.eq (local.get $iBytes) (local.get $jBytes))
              (then
                (if (i32.eqz (f64.gt (local.get $diagonal) (f64.const 0))) (then (return (i32.const 0))))
                (local.set $pivot0 (f64.sqrt (local.get $diagonal)))
                (local.set $inversePivot0 (f64x2.splat (f64.div (f64.const 1) (local.get $pivot0))))
                (f64.store (i32.add (local.get $columnJ) (local.get $iBytes)) (local.get $pivot0)))
              (else
                (f64.store (i32.add (local.get $columnJ) (local.get $iBytes))
                  (f64.mul (local.get $diagonal) (f64x2.extract_lane 0 (local.get $inversePivot0))))))
            (local.set $iBytes (i32.add (local.get $iBytes) (i32.const 8)))
            (br $rows)))))
    (i32.const 1))

  ;; Σ_j (L⁻¹b)_j · (L⁻¹c)_j, rows n and n + 1 of every column, in order of j.
  (func $dotRows (result f64)
    (local $at i32) (local $end i32) (local $sum f64)
    (local.set $at (i32.shl (global.get $n) (i32.const 3)))
    (local.set $end (i32.add (local.get $at) (i32.mul (global.get $n) (global.get $columnStride))))
    (block $done
      (loop $terms
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $sum (f64.add (local.get $sum) (f64.mul (f64.load (local.get $at)) (f64.load offset=8 (local.get $at)))))
        (local.set $at (i32.add (local.get $at) (global.get $columnStride)))
        (br $terms)))
    (local.get $sum)))
