;; The per-evaluation work of host/devices/dopant.ts, in WebAssembly with 128-bit SIMD (two
;; f64 lanes): site energies and occupations, the site–site conductances, the Cholesky
;; factorisation of the free-node Laplacian with two extra right-hand-side rows, and the
;; output dot product. Source of truth for the bytes in dopant-kernel.ts (regenerate with
;; `npx tsx scripts/dopant-kernel.ts`; tests/devices.test.ts checks that they match).
;;
;; Memory, laid out by the host (dopant.ts) and announced once through configure(). All f64,
;; byte addresses; n sites, padded to an even count p (padding sites have zero weights and
;; hopping and are never read back), rows of p entries (stride 8p bytes):
;;   system               at 0: (n + 2) rows. Rows 0..n−1: the Laplacian, lower triangle;
;;                        row n: b (drive), row n + 1: c (collect). After evaluate: L, L⁻¹b, L⁻¹c.
;;   siteHopping          n rows: exp(−2 r_ij / a) for j < i.                       (fixed)
;;   baseEnergy           p: ε0_i / kT.                                               (fixed)
;;   weight               7 rows of p: electrostatic weight w_ie, electrode-major.    (fixed)
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
  (global $stride (mut i32) (i32.const 0))
  (global $padded (mut i32) (i32.const 0))
  (global $siteHopping (mut i32) (i32.const 0))
  (global $baseEnergy (mut i32) (i32.const 0))
  (global $weight (mut i32) (i32.const 0))
  (global $electrodeHopping (mut i32) (i32.const 0))
  (global $electrodeHoppingSum (mut i32) (i32.const 0))
  (global $occupancy (mut i32) (i32.const 0))
  (global $boltzmann (mut i32) (i32.const 0))
  (global $electrodeFactor (mut i32) (i32.const 0))
  (global $diagonal (mut i32) (i32.const 0))
  (global $leverOverKT (mut f64) (f64.const 0))

  (func (export "configure")
    (param $n i32) (param $padded i32) (param $siteHopping i32) (param $baseEnergy i32) (param $weight i32)
    (param $electrodeHopping i32) (param $electrodeHoppingSum i32) (param $occupancy i32) (param $boltzmann i32)
    (param $electrodeFactor i32) (param $diagonal i32) (param $leverOverKT f64)
    (global.set $n (local.get $n))
    (global.set $padded (local.get $padded))
    (global.set $stride (i32.shl (local.get $padded) (i32.const 3)))
    (global.set $siteHopping (local.get $siteHopping))
    (global.set $baseEnergy (local.get $baseEnergy))
    (global.set $weight (local.get $weight))
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
                (f64x2.mul (v128.load (i32.add (local.get $at) (global.get $stride))) (local.get $v1)))
              (f64x2.mul (v128.load (i32.add (local.get $at) (i32.mul (global.get $stride) (i32.const 2)))) (local.get $v2)))
            (f64x2.mul (v128.load (i32.add (local.get $at) (i32.mul (global.get $stride) (i32.const 3)))) (local.get $v3)))
          (f64x2.mul (v128.load (i32.add (local.get $at) (i32.mul (global.get $stride) (i32.const 4)))) (local.get $v4)))
        (f64x2.mul (v128.load (i32.add (local.get $at) (i32.mul (global.get $stride) (i32.const 5)))) (local.get $v5)))
      (f64x2.mul (v128.load (i32.add (local.get $at) (i32.mul (global.get $stride) (i32.const 6)))) (local.get $v6))))

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
  ;; right-hand sides: b_i = Σ_e G_ie V_e (row n) and c_i = G_i,output (row n + 1).
  (func $sites (param $v0 f64) (param $v1 f64) (param $v2 f64) (param $v3 f64) (param $v4 f64) (param $v5 f64) (param $v6 f64)
    (local $V0 v128) (local $V1 v128) (local $V2 v128) (local $V3 v128) (local $V4 v128) (local $V5 v128) (local $V6 v128)
    (local $lever v128) (local $iBytes i32) (local $end i32) (local $drive i32) (local $collect i32)
    (local $energy v128) (local $boltzmann v128) (local $occupancy v128) (local $toElectrode v128)
    (local.set $V0 (f64x2.splat (local.get $v0)))
    (local.set $V1 (f64x2.splat (local.get $v1)))
    (local.set $V2 (f64x2.splat (local.get $v2)))
    (local.set $V3 (f64x2.splat (local.get $v3)))
    (local.set $V4 (f64x2.splat (local.get $v4)))
    (local.set $V5 (f64x2.splat (local.get $v5)))
    (local.set $V6 (f64x2.splat (local.get $v6)))
    (local.set $lever (f64x2.splat (global.get $leverOverKT)))
    (local.set $drive (i32.mul (global.get $n) (global.get $stride)))
    (local.set $collect (i32.add (local.get $drive) (global.get $stride)))
    (local.set $end (global.get $stride))
    (local.set $iBytes (i32.const 0))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $iBytes) (local.get $end)))
        (local.set $energy
          (f64x2.max (v128.const f64x2 -300 -300)
            (f64x2.min (v128.const f64x2 300 300)
              (f64x2.sub
                (v128.load (i32.add (global.get $baseEnergy) (local.get $iBytes)))
                (f64x2.mul (local.get $lever)
                  (call $electrodeSum (i32.add (global.get $weight) (local.get $iBytes))
                    (local.get $V0) (local.get $V1) (local.get $V2) (local.get $V3) (local.get $V4) (local.get $V5) (local.get $V6)))))))
        (local.set $boltzmann (call $exp (f64x2.neg (local.get $energy))))
        (local.set $occupancy (f64x2.div (local.get $boltzmann) (f64x2.add (v128.const f64x2 1 1) (local.get $boltzmann))))
        (local.set $toElectrode
          (f64x2.div (f64x2.mul (local.get $occupancy) (v128.const f64x2 0.5 0.5)) (f64x2.add (local.get $boltzmann) (v128.const f64x2 1 1))))
        (v128.store (i32.add (global.get $boltzmann) (local.get $iBytes)) (local.get $boltzmann))
        (v128.store (i32.add (global.get $occupancy) (local.get $iBytes)) (local.get $occupancy))
        (v128.store (i32.add (global.get $electrodeFactor) (local.get $iBytes)) (local.get $toElectrode))
        (v128.store (i32.add (global.get $diagonal) (local.get $iBytes))
          (f64x2.mul (v128.load (i32.add (global.get $electrodeHoppingSum) (local.get $iBytes))) (local.get $toElectrode)))
        (v128.store (i32.add (local.get $drive) (local.get $iBytes))
          (f64x2.mul
            (call $electrodeSum (i32.add (global.get $electrodeHopping) (local.get $iBytes))
              (local.get $V0) (local.get $V1) (local.get $V2) (local.get $V3) (local.get $V4) (local.get $V5) (local.get $V6))
            (local.get $toElectrode)))
        (v128.store (i32.add (local.get $collect) (local.get $iBytes))
          (f64x2.mul
            (v128.load (i32.add (i32.add (global.get $electrodeHopping) (i32.mul (global.get $stride) (i32.const 7))) (local.get $iBytes)))
            (local.get $toElectrode)))
        (local.set $iBytes (i32.add (local.get $iBytes) (i32.const 16)))
        (br $pairs))))

  ;; Laplacian rows 0..n−1: system[i][j] = −g_ij for j < i with
  ;; g_ij = hopping_ij · occupancy_i · occupancy_j / (boltzmann_i + boltzmann_j), and the
  ;; diagonal gains Σ_j g_ij. Two j at a time.
  (func $assemble
    (local $n i32) (local $hopping i32) (local $occupancy i32) (local $boltzmann i32) (local $diagonal i32)
    (local $i i32) (local $jBytes i32) (local $iBytes i32) (local $row i32)
    (local $occupancyI v128) (local $boltzmannI v128) (local $sum v128) (local $g v128)
    (local $rowSum f64) (local $gScalar f64)
    (local.set $n (global.get $n))
    (local.set $hopping (global.get $siteHopping))
    (local.set $occupancy (global.get $occupancy))
    (local.set $boltzmann (global.get $boltzmann))
    (local.set $diagonal (global.get $diagonal))
    (local.set $i (i32.const 1))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $iBytes (i32.shl (local.get $i) (i32.const 3)))
        (local.set $row (i32.mul (local.get $i) (global.get $stride)))
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
        (f64.store (i32.add (i32.mul (local.get $i) (global.get $stride)) (local.get $iBytes))
          (f64.load (i32.add (local.get $diagonal) (local.get $iBytes))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $copy))))

  ;; Cholesky–Crout over the (n + 2)-row system at address 0: columns two at a time (j, j + 1),
  ;; rows below them four at a time, every dot product over k < j two k at a time (j is even
  ;; wherever a dot product is taken). Returns 0 if a pivot is not positive.
  (func $factor (result i32)
    (local $n i32) (local $stride i32) (local $rows i32) (local $j i32) (local $jBytes i32) (local $kBytes i32) (local $i i32)
    (local $rowJ i32) (local $rowJ1 i32) (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32)
    (local $lj0 v128) (local $lj1 v128) (local $u0 v128) (local $u1 v128) (local $u2 v128) (local $u3 v128)
    (local $s00 v128) (local $s01 v128) (local $s10 v128) (local $s11 v128)
    (local $s20 v128) (local $s21 v128) (local $s30 v128) (local $s31 v128)
    (local $diagonal0 f64) (local $diagonal1 f64) (local $inversePivot0 f64) (local $inversePivot1 f64)
    (local $l10 f64)
    (local.set $n (global.get $n))
    (local.set $stride (global.get $stride))
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
  (func $dotRows (result f64)
    (local $drive i32) (local $collect i32) (local $end i32) (local $sum f64)
    (local.set $drive (i32.mul (global.get $n) (global.get $stride)))
    (local.set $collect (i32.add (local.get $drive) (global.get $stride)))
    (local.set $end (i32.add (local.get $drive) (i32.shl (global.get $n) (i32.const 3))))
    (block $done
      (loop $terms
        (br_if $done (i32.ge_u (local.get $drive) (local.get $end)))
        (local.set $sum (f64.add (local.get $sum) (f64.mul (f64.load (local.get $drive)) (f64.load (local.get $collect)))))
        (local.set $drive (i32.add (local.get $drive) (i32.const 8)))
        (local.set $collect (i32.add (local.get $collect) (i32.const 8)))
        (br $terms)))
    (local.get $sum)))
