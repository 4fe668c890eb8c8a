/* The firmware's main loop: it only moves samples. Read a block of ADC readings, run the
 * controller once per reading, hand the electrode voltages to the DAC. All the control work
 * (oscillators, lock-in, updates, clamps) is inside the module. The configuration is compiled
 * in (gen/hge_config_block.c); a board driven by a host over the serial link runs link.c
 * instead of this file. */
#include <string.h>

#include "app.h"
#include "bench.h"
#include "board_config.h"
#include "hal.h"

static float readings[HGE_BLOCK_SAMPLES];
static float volts[HGE_BLOCK_SAMPLES * HGE_MAX_CHANNELS];
static uint32_t flags[HGE_BLOCK_SAMPLES];

/* No telemetry unless the adapter has some (app_hge.c does). */
__attribute__((weak)) int app_report(uint32_t events) { (void)events; return 0; }
__attribute__((weak)) void app_log_refusal(int code) { (void)code; hal_log("hge: configuration refused"); }

/* One sample at a time through app_step(); each call is what bench.h measures (the telemetry
 * after it is not). */
__attribute__((weak)) void app_process(const float *in, int n, float *out, uint32_t *events) {
  int channels = app_output_count();
  for (int i = 0; i < n; i++) {
    BENCH_MEASURE(events[i] = app_step(in[i]));
    memcpy(&out[i * channels], app_outputs(), (size_t)channels * sizeof(float));
    app_report(events[i]);
  }
}

#ifdef HGE_CLAMP_OUTPUTS
/* An adapter of the user's (--app file.c): its voltages are held inside each electrode's safe
 * range before they reach the DAC, NaN at the electrode's park voltage. The controller's adapter
 * needs no such check (the module keeps every voltage in its range), nor do the probe's test
 * values, which are there to reach the DAC as they are. */
static void clamp_outputs(float *v, int channels, int n) {
  static const float low[] = HGE_SAFE_MIN_V, high[] = HGE_SAFE_MAX_V, park[] = HGE_PARK_VOLTS;
  for (int i = 0; i < n; i++) {
    for (int c = 0; c < channels; c++) {
      float *x = &v[i * channels + c];
      if (*x != *x) *x = park[c];
      else if (*x < low[c]) *x = low[c];
      else if (*x > high[c]) *x = high[c];
    }
  }
}
#endif

int main(void) {
  hal_init();
  hal_uart_write("hge: ready\n", 11);
  int rc = app_init();
  if (rc != 0) {
    app_log_refusal(rc);
    hal_exit(3); /* (the code itself is no exit status: 1 and 2 say "not solved" and "fault") */
  }
  int channels = app_output_count();
  if (channels > HGE_MAX_CHANNELS) hal_trap(-1, "more outputs than HGE_MAX_CHANNELS");
  uint32_t sample = 0;
  for (;;) {
    int n = hal_adc_read_block(readings, HGE_BLOCK_SAMPLES);
    if (n <= 0) break; /* end of a replayed stream; hardware never ends */
    app_process(readings, n, volts, flags);
#ifdef HGE_CLAMP_OUTPUTS
    clamp_outputs(volts, channels, n);
#endif
    for (int i = 0; i < n; i++) hal_sample_done(sample++, flags[i]);
    hal_dac_write_block(volts, channels, n);
  }
  app_report(APP_REPORT_FINAL);
  bench_report();
  hal_exit(0);
}
