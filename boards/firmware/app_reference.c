/* The benchmark's hand-written C reference: the controller's per-sample arithmetic in plain C,
 * as a firmware engineer would write it for this core, compiled with the same flags as the
 * module's wasm2c output, and the same algorithm as the module's typical sample (trainer.ts:
 * typicalSample). For each sample of a lock-in window:
 *   - count the sample, reject a saturated or non-finite reading, add it to the window's sum;
 *   - subtract the window's first reading; then one pass per control: accumulate v·sin and
 *     v·cos of the tone as last written (two multiply-accumulates, f32), advance the tone's
 *     integer phase by its bin modulo the window, write centre + amplitude·sine;
 *   - sines and cosines come from a table of the window's own phases, sin and cos(2π p / W)
 *     side by side for 0 <= p < W, filled once from a 1024-entry period table with linear
 *     interpolation (the module's values); the window must be at most 512 samples (the
 *     module's condition for its table);
 *   - no clamps: centre ± amplitude is inside the range and a tone moves less than the slew
 *     limit per sample (the module checks both; here the benchmark's configuration has them);
 *   - the same data layout as the module: one record per control (phase, step, the two sums,
 *     centre, amplitude: 24 bytes, assembly/records.ts), so that the comparison is of the code
 *     and not of the layout (with one array per quantity it counted 284 instructions at 8
 *     controls on the Cortex-M4F against 265 with records).
 * At the end of a window it only restarts the sums (no demodulation, no update): the benchmark
 * compares the typical sample. Configured from the same block as hge (hge_config_t). */
#include <math.h>
#include <string.h>

#include "app.h"
#include "hge.h"

#define TABLE_SIZE 1024
#define MAX_WINDOW HGE_SINES_MAX_WINDOW /* the window's own table, as long as the module's */
extern const uint32_t hge_config_block[HGE_CONFIG_WORDS];

static float sine_table[TABLE_SIZE + 1];
static float sines[MAX_WINDOW][2]; /* sin, cos */
/* control k's per-sample state, laid out as the module's record (assembly/records.ts) */
typedef struct {
  int32_t phase, bin; /* the tone's phase in [0, window) and its step per sample */
  float sums[2];      /* v·sin, v·cos */
  float center, amplitude;
} control_t;
static control_t ctl[HGE_MAX_CONTROLS];
static float out[HGE_MAX_CONTROLS];
static int controls, window, samples_in_window;
static float reading_min, reading_max, reading_sum, reference, window_sum;
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
  if (window > MAX_WINDOW) return 1;
  float table_scale = (float)TABLE_SIZE / (float)window;
  for (int p = 0; p < window; p++) {
    float x = (float)p * table_scale, xc = x + TABLE_SIZE / 4;
    sines[p][0] = sine_at(x);
    sines[p][1] = sine_at(xc >= TABLE_SIZE ? xc - TABLE_SIZE : xc);
  }
  reading_min = c.reading_min;
  reading_max = c.reading_max;
  for (int k = 0; k < controls; k++) {
    ctl[k].bin = c.tone_bin[k];
    ctl[k].amplitude = c.amplitude_v[k];
    ctl[k].center = c.initial_v[k];
    out[k] = ctl[k].center;
  }
  return 0;
}

uint32_t app_step(float reading) {
  samples++;
  float v = 0;
  if (reading > reading_min && reading < reading_max) {
    reading_sum += reading;
    if (samples_in_window == 0) reference = reading;
    v = reading - reference;
    window_sum += v;
  } else {
    window_bad = 1;
  }
  for (int k = 0; k < controls; k++) {
    control_t *q = &ctl[k];
    int32_t p = q->phase;
    q->sums[0] += v * sines[p][0];
    q->sums[1] += v * sines[p][1];
    p += q->bin;
    if (p >= window) p -= window;
    q->phase = p;
    out[k] = q->center + q->amplitude * sines[p][0];
  }
  uint32_t events = 0;
  if (++samples_in_window == window) {
    samples_in_window = 0;
    reading_sum = window_sum = 0;
    window_bad = 0;
    for (int k = 0; k < controls; k++) ctl[k].sums[0] = ctl[k].sums[1] = 0;
    events = 1;
  }
  return events;
}

const float *app_outputs(void) { return out; }

int app_output_count(void) { return controls; }
