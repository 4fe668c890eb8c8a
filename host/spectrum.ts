// Fourier transforms, one place for every spectrum hge draws or tests. fft.js transforms
// power-of-two lengths; any other length n (a window of 200, 480 or 140684 samples) goes
// through Bluestein's chirp-z identity, mt = (m² + t² − (m − t)²)/2, as one circular
// convolution of power-of-two length ≥ 2n − 1: n·log n either way, where direct sums take
// minutes for the windows of 140684 samples or more that order-3 plans of 128 controls need.
import FFT from "fft.js";

/** The discrete Fourier transform X[m] = Σ x[t]·e^(−2πi·mt/n) of real samples, m = 0..n−1. */
export function dft(samples: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  const n = samples.length;
  const re = new Float64Array(n), im = new Float64Array(n);
  if ((n & (n - 1)) === 0 && n >= 2) {
    const out = transform(n, (t) => [samples[t], 0]);
    for (let m = 0; m < n; m++) { re[m] = out[2 * m]; im[m] = out[2 * m + 1]; }
    return { re, im };
  }
  // chirp[k] = e^(−iπk²/n), k² taken modulo 2n so that the angle stays exact for long windows
  const chirp = (k: number): [number, number] => {
    const angle = (Math.PI * ((k * k) % (2 * n))) / n;
    return [Math.cos(angle), -Math.sin(angle)];
  };
  let size = 2; // fft.js's least
  while (size < 2 * n - 1) size *= 2;
  // X[m] = chirp[m] · Σ_t (x[t]·chirp[t]) · conj(chirp[m − t])
  const a = transform(size, (t) => (t < n ? scale(chirp(t), samples[t]) : [0, 0]));
  const b = transform(size, (k) => (k < n ? conjugate(chirp(k)) : k > size - n ? conjugate(chirp(size - k)) : [0, 0]));
  const product = a.map((_, i) => (i % 2 ? a[i - 1] * b[i] + a[i] * b[i - 1] : a[i] * b[i] - a[i + 1] * b[i + 1]));
  const convolution = fftOf(size).createComplexArray() as number[];
  fftOf(size).inverseTransform(convolution, product);
  for (let m = 0; m < n; m++) {
    const [cr, ci] = chirp(m);
    re[m] = cr * convolution[2 * m] - ci * convolution[2 * m + 1];
    im[m] = cr * convolution[2 * m + 1] + ci * convolution[2 * m];
  }
  return { re, im };
}

/** Amplitude spectrum (peak, the samples' unit) of real samples at bins 0..⌊n/2⌋, mean removed:
 *  a sinusoid of amplitude a at bin m (0 < m < n/2) shows a there. */
export function amplitudeSpectrum(samples: ArrayLike<number>): number[] {
  const n = samples.length;
  const { re, im } = dft(samples);
  return Array.from({ length: (n >> 1) + 1 }, (_, m) => (m === 0 ? 0 : ((2 * m === n ? 1 : 2) * Math.hypot(re[m], im[m])) / n));
}

/** fft.js's transform of `size` (a power of two) points, its tables built once a size (the
 *  Welch PSD and the live view take many spectra of one length). */
const ffts = new Map<number, FFT>();
function fftOf(size: number): FFT {
  let fft = ffts.get(size);
  if (!fft) ffts.set(size, (fft = new FFT(size)));
  return fft;
}

/** fft.js's forward transform of `size` (a power of two) complex values, interleaved. */
function transform(size: number, value: (t: number) => [number, number]): number[] {
  const fft = fftOf(size);
  const data = fft.createComplexArray() as number[], out = fft.createComplexArray() as number[];
  for (let t = 0; t < size; t++) [data[2 * t], data[2 * t + 1]] = value(t);
  fft.transform(out, data);
  return out;
}

const scale = ([re, im]: [number, number], by: number): [number, number] => [re * by, im * by];
const conjugate = ([re, im]: [number, number]): [number, number] => [re, -im];
