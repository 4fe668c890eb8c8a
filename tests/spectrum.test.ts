// host/spectrum.ts: the transform every plotted spectrum and the noise tests' PSD go through.
import { test } from "node:test";
import assert from "node:assert/strict";
import { amplitudeSpectrum, dft } from "../host/spectrum.ts";

test("dft is Σ x[t]·e^(−2πi·mt/n) at every bin, to 1e-9 of the direct sum, for lengths radix 2 and not (Bluestein)", () => {
  for (const n of [1, 2, 3, 64, 127, 200, 480]) {
    const x = Array.from({ length: n }, (_, t) => Math.sin(0.37 * t * t) + 0.2 * t / n);
    const { re, im } = dft(x);
    for (let m = 0; m < n; m++) {
      let r = 0, i = 0;
      for (let t = 0; t < n; t++) { r += x[t] * Math.cos((2 * Math.PI * m * t) / n); i -= x[t] * Math.sin((2 * Math.PI * m * t) / n); }
      assert.ok(Math.abs(re[m] - r) < 1e-9 * n && Math.abs(im[m] - i) < 1e-9 * n, `n ${n}, bin ${m}: ${re[m]} ${im[m]}i vs ${r} ${i}i`);
    }
  }
});

test("amplitudeSpectrum shows each sinusoid's peak amplitude at its bin, the mean nowhere, and the Nyquist line at its own amplitude", () => {
  const n = 2000;
  const x = Array.from({ length: n }, (_, t) => 5 + 0.7 * Math.sin((2 * Math.PI * 31 * t) / n + 0.4) + 0.02 * Math.cos((2 * Math.PI * 233 * t) / n) + 0.1 * (-1) ** t);
  const s = amplitudeSpectrum(x);
  assert.equal(s.length, n / 2 + 1);
  const expected = new Map([[31, 0.7], [233, 0.02], [n / 2, 0.1]]);
  for (let m = 0; m <= n / 2; m++) assert.ok(Math.abs(s[m] - (expected.get(m) ?? 0)) < 1e-9, `bin ${m}: ${s[m]}`);
});
