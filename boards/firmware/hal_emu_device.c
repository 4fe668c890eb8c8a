/* TEST STAND-IN, emulation only: the analogue world of an emulated board running standalone
 * firmware. QEMU's boards have no DAC and no ADC wired to anything, so this file plays a simple
 * device in C: the analytic device of host/devices/analytic.ts (y = sum_k c_k tanh(a_k), a_k =
 * sum_j M_kj (v_j - m_j) + sum_i E_ki (u_i - mu_i) + h_k, in nA), its coefficients generated
 * from the host's instance into gen/standalone_config.h (HGE_EMU_*). hal_dac_write keeps the
 * electrode voltages; hal_adc_read returns the device's output for them, through the board's
 * transimpedance (volts = nA / HGE_ADC_UNIT_PER_V), clipped to the ADC's range (where a test
 * defines them: 0 wherever control 1 is below HGE_EMU_SILENT_BELOW_V, and white noise of
 * HGE_EMU_NOISE_RMS nA added). It is not a
 * model of any real device and never part of a hardware build: real boards implement
 * hal_adc_read/hal_dac_write for their converters (boards/README.md). */
#include <math.h>
#include <string.h>

#include "board_config.h"
#include "hal.h"
#include "hge.h"
#include "standalone_config.h"

static const float amplitude[HGE_EMU_CONTROLS] = HGE_EMU_AMPLITUDE_NA;
static const float coupling[HGE_EMU_CONTROLS * HGE_EMU_CONTROLS] = HGE_EMU_COUPLING;
static const float input_coupling[HGE_EMU_CONTROLS * (HGE_EMU_INPUTS ? HGE_EMU_INPUTS : 1)] = HGE_EMU_INPUT_COUPLING;
static const float offset[HGE_EMU_CONTROLS] = HGE_EMU_OFFSET;
static const float control_mid[HGE_EMU_CONTROLS] = HGE_EMU_CONTROL_MID_V;
static const float input_mid[HGE_EMU_INPUTS ? HGE_EMU_INPUTS : 1] = HGE_EMU_INPUT_MID_V;
/* where hal_init() leaves the converters on hardware */
static float electrodes[HGE_DAC_CHANNELS] = HGE_PARK_VOLTS;

/* A device's protection: a step larger than the configuration's slew limit allows in a sample
 * (SlewVPerS / SampleRateHz, and f32 rounding) is said on the console, as a test can see. */
extern const uint32_t hge_config_block[HGE_CONFIG_WORDS];
static void check_slew(int e, float from, float to) {
  const hge_config_t *c = (const hge_config_t *)(const void *)hge_config_block;
  float most = c->slew_v_per_s / c->sample_rate_hz + 1e-6f, step = fabsf(to - from);
  if (!(step <= most)) {
    static char line[] = "stand-in: electrode 000 stepped past the slew limit";
    line[20] = (char)('0' + e / 100 % 10); line[21] = (char)('0' + e / 10 % 10); line[22] = (char)('0' + e % 10);
    hal_log(line);
  }
}

#ifdef HGE_EMU_NOISE_RMS
/* A test's noisy device: white noise of unit RMS, the sum of four uniforms (xorshift32). */
static float noise(void) {
  static uint32_t state = 2463534242u;
  float sum = 0;
  for (int i = 0; i < 4; i++) {
    state ^= state << 13; state ^= state >> 17; state ^= state << 5;
    sum += (float)state * 2.3283064e-10f - 0.5f;
  }
  return sum * 1.7320508f; /* four uniforms on ±0.5 have variance 1/3 */
}
#endif

void hal_dac_write(const float *volts, int count) {
  for (int e = 0; e < count && e < HGE_DAC_CHANNELS; e++) {
    check_slew(e, electrodes[e], volts[e]);
    electrodes[e] = volts[e];
  }
}

int hal_adc_read(float *volts) {
  float y = 0;
  for (int k = 0; k < HGE_EMU_CONTROLS; k++) {
    float a = offset[k];
    for (int j = 0; j < HGE_EMU_CONTROLS; j++) a += coupling[k * HGE_EMU_CONTROLS + j] * (electrodes[j] - control_mid[j]);
    for (int i = 0; i < HGE_EMU_INPUTS; i++) a += input_coupling[k * HGE_EMU_INPUTS + i] * (electrodes[HGE_EMU_CONTROLS + i] - input_mid[i]);
    y += amplitude[k] * tanhf(a);
  }
#ifdef HGE_EMU_SILENT_BELOW_V
  if (electrodes[0] < HGE_EMU_SILENT_BELOW_V) y = 0; /* a test's device pinched off there */
#endif
#ifdef HGE_EMU_NOISE_RMS
  y += noise() * HGE_EMU_NOISE_RMS;
#endif
  float v = y / HGE_ADC_UNIT_PER_V;
  *volts = v < HGE_ADC_MIN_V ? HGE_ADC_MIN_V : v > HGE_ADC_MAX_V ? HGE_ADC_MAX_V : v;
  return 0;
}
