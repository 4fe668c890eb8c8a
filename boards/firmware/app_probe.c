/* The adapter for boards/testdata/probe.ts (the stand-in module). */
#include "app.h"
#include "hge.h"

int app_init(void) {
  hge_instantiate();
  hge_reset();
  return 0;
}

uint32_t app_step(float reading) { return hge_step(reading); }

const float *app_outputs(void) { return (const float *)(hge_memory() + HGE_OUT); }

int app_output_count(void) { return (int)HGE_CHANNELS; }
