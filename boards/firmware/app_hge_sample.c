/* The benchmark's whole-sample adapter (measure.ts: wholeSample): the controller's adapter
 * (app_hge.c) with the per-sample work the main loop does after step() moved inside the counted
 * call, so that the count is of a whole sample but the ADC read: main.c's copy of the outputs,
 * then a minimal DAC hand-off, each voltage made a 16-bit code (over ±10 V) and written to a
 * register. A real DAC's driver (SPI frames, a DMA descriptor) costs more; this is its floor. */
#include "board_config.h"
#define app_step app_step_controller
#include "app_hge.c"
#undef app_step

static float copied[HGE_MAX_CHANNELS];
volatile uint32_t hge_bench_dac_register;

uint32_t app_step(float reading) {
  uint32_t events = app_step_controller(reading);
  int n = app_output_count();
  memcpy(copied, app_outputs(), (size_t)n * sizeof(float));
  for (int c = 0; c < n; c++) hge_bench_dac_register = (uint32_t)(int32_t)((copied[c] + 10.0f) * 3276.75f);
  return events;
}
