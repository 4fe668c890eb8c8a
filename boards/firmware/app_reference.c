/* The benchmark's hand-written C reference: the controller's per-sample arithmetic in plain C,
 * as a firmware engineer would write it for this core, compiled with the same flags as the
 * module's wasm2c output. For each sample of a lock-in window (the work hge's step() does on
 * all but the window's last sample, with sinusoidal perturbations):
 *   - count the sample, reject a saturated or non-finite reading, add it to the window's sum;
 *   - lock-in: subtract the window's first reading, then per control accumulate v·sin, v·cos
 *     and sin (three multiply-accumulates, f32);
 *   - oscillators: per control advance an integer phase by the tone's bin modulo the window,
 *     scale it to a 1024-entry sine table, read sine and cosine with linear interpolation;
 *   - outputs: per control centre + amplitude·sine, clamped to the electrode's range.
 * At the end of a window it only restarts the sums (no demodulation, no update): the benchmark
 * compares the typical sample. Configured from the same block as hge (hge_config_t). */
#include <math.h>
#include <string.h>

#include "app.h"
#include "hge.h"

#define TABLE_SIZE 1024
extern const uint32_t hge_config_block[HGE_CONFIG_WORDS];

static float sine_table[TABLE_SIZE + 1];
static int32_t phase[HGE_MAX_CONTROLS], bin[HGE_MAX_CONTROLS];
static float nco_sin[HGE_MAX_CONTROLS], nco_cos[HGE_MAX_CONTROLS];
static float sum_sin[HGE_MAX_CONTROLS], sum_cos[HGE_MAX_CONTROLS];
static float center[HGE_MAX_CONTROLS], amplitude[HGE_MAX_CONTROLS], min_v[HGE_MAX_CONTROLS], max_v[HGE_MAX_CONTROLS];
static float out[HGE_MAX_CONTROLS];
static int controls, window, samples_in_window;
static float table_scale, reading_min, reading_max, reading_sum, reference, window_sum;
static uint64_t samples;
static int window_bad;

static inline float sine_at(float x) {
  int i = (int)x & (TABLE_SIZE - 1);
  float fraction = x - (float)i;
  float a = sine_table[i], b = sine_table[i + 1];
  return a + fraction * (b - a);
}

int app_init(void) {
  static hge_config_t c;
  memcpy(&c, hge_config_block, sizeof c);
  for (int i = 0; i <= TABLE_SIZE; i++) sine_table[i] = (float)sin(2.0 * M_PI * i / TABLE_SIZE);
  controls = c.control_count;
  window = c.window_samples;
  table_scale = (float)TABLE_SIZE / (float)window;
  reading_min = c.reading_min;
  reading_max = c.reading_max;
  for (int k = 0; k < controls; k++) {
    bin[k] = c.tone_bin[k];
    amplitude[k] = c.amplitude_v[k];
    min_v[k] = c.min_v[k];
    max_v[k] = c.max_v[k];
    center[k] = c.initial_v[k];
  }
  return 0;
}

uint32_t app_step(float reading) {
  samples++;
  if (reading > reading_min && reading < reading_max) {
    reading_sum += reading;
    if (samples_in_window == 0) reference = reading;
    float v = reading - reference;
    window_sum += v;
    for (int k = 0; k < controls; k++) {
      sum_sin[k] += v * nco_sin[k];
      sum_cos[k] += v * nco_cos[k];
    }
  } else {
    window_bad = 1;
  }
  uint32_t events = 0;
  if (++samples_in_window == window) {
    samples_in_window = 0;
    reading_sum = window_sum = 0;
    window_bad = 0;
    memset(sum_sin, 0, sizeof sum_sin);
    memset(sum_cos, 0, sizeof sum_cos);
    events = 1;
  }
  for (int k = 0; k < controls; k++) {
    int32_t p = phase[k] + bin[k];
    if (p >= window) p -= window;
    phase[k] = p;
    float x = (float)p * table_scale;
    float xc = x + TABLE_SIZE / 4;
    if (xc >= TABLE_SIZE) xc -= TABLE_SIZE;
    nco_sin[k] = sine_at(x);
    nco_cos[k] = sine_at(xc);
  }
  for (int k = 0; k < controls; k++) {
    float v = center[k] + amplitude[k] * nco_sin[k];
    out[k] = v > min_v[k] ? (v < max_v[k] ? v : max_v[k]) : min_v[k];
  }
  return events;
}

const float *app_outputs(void) { return out; }

int app_output_count(void) { return controls; }
