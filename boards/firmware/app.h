/* app.h: the seam between the main loop and the module. One implementation per module:
 * app_probe.c for the stand-in probe, and one for the controller (hge.wasm). */
#ifndef HGE_APP_H
#define HGE_APP_H
#include <stdint.h>

/** Instantiates the module and configures it; 0 on success, else the module's error code. */
int app_init(void);
/** One sample: the reading for the previous output in, event flags out. */
uint32_t app_step(float reading);
/** The electrode voltages the last app_step() produced, app_output_count() of them. */
const float *app_outputs(void);
int app_output_count(void);
/** A block of n samples: readings in; app_output_count() voltages per sample and the event
 *  flags of each sample out. Optional: the default (main.c) calls app_step() per sample; an
 *  adapter for a module with a block entry point (process(n) over its own buffers) overrides
 *  it, copying the readings in and the voltages out around one call. */
void app_process(const float *readings, int n, float *volts, uint32_t *flags);

#endif
