/* app.h: the seam between the main loops (main.c, link.c) and the module. One implementation
 * per module: app_hge.c for the controller (build/hge.wasm), app_probe.c for the stand-in
 * probe, app_reference.c for the hand-written C reference the benchmark compares against. */
#ifndef HGE_APP_H
#define HGE_APP_H
#include <stdint.h>

#include "link_protocol.h" /* generated: HGE_REPORT_*, HGE_TELEMETRY_EVENTS */

/** Instantiates the module and, when the build compiled a configuration block in, configures
 *  it; 0 on success, else the module's error code. */
int app_init(void);
/** One sample: the ADC reading (volts) for the previous output in, event flags out. The
 *  controller's adapter converts volts to the device unit (board_config.h HGE_ADC_UNIT_PER_V);
 *  the probe and the reference take the reading as it is. */
uint32_t app_step(float reading);
/** The electrode voltages the last app_step() produced, app_output_count() of them. */
const float *app_outputs(void);
int app_output_count(void);
/** A block of n samples: readings in; app_output_count() voltages per sample and the event
 *  flags of each sample out. Optional: the default (main.c) calls app_step() and app_report()
 *  per sample; an adapter with a block entry point may override it. */
void app_process(const float *readings, int n, float *volts, uint32_t *flags);

/* ---- the controller's adapter only (app_hge.c); main.c has weak defaults ---------------- */

/** Bits of app_report()'s events that are not module events: the end of a run (the record
 *  is sent and the checkpoint stored), and a record asked for by the host. */
#define APP_REPORT_FINAL HGE_REPORT_FINAL
#define APP_REPORT_REQUEST HGE_REPORT_REQUEST
/** Telemetry after a sample with these events (or one of the bits above): hal_telemetry()
 *  gets a record when one is due. Returns its length in words (0: none). Optional (default:
 *  nothing). */
int app_report(uint32_t events);

/** Configures from a configuration block of `bytes` bytes (hge.h: hge_config_t). Returns 0,
 *  the module's refusal (enum hge_field), or APP_BOARD_REFUSAL | field when the block asks
 *  for more electrodes than the DAC has or a range outside an electrode's safe range; *index
 *  names the element. A refused block leaves the previous configuration running. */
#define APP_BOARD_REFUSAL 0x100
#define APP_BAD_BLOCK_SIZE 0x1ff
int app_configure(const void *block, int bytes, int32_t *index);
/** Logs (hal_log) why app_init() refused its compiled-in block (its code): the field's name
 *  and element, and whether the board or the module refused it. Optional (main.c's default:
 *  the code alone). */
void app_log_refusal(int code);
/** Stops training and parks the electrodes: each control at its weight (the perturbation
 *  removed), each input at the board's park voltage moved inside the input's range. The module
 *  ramps them there (park()) at the slew limit, a step each sample (hal_adc_read's pace), each
 *  written to the DAC (hal_dac_write); `volts` gets where they end. Returns their number (the
 *  electrodes in use; 0 when not configured). */
int app_park(float *volts, int max);
/** Saves the learned state; *blob points at it. Returns its length (0: not configured). */
int app_checkpoint(const uint8_t **blob);
/** Restores a blob from app_checkpoint(); 0, or the module's refusal. */
int app_load_checkpoint(const void *blob, int bytes);
/** The tone bins and intermodulation hits of the running configuration (controls of each). */
int app_tones(int32_t *bins, int32_t *hits, int max);

#endif
