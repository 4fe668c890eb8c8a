/* hal.h: the hooks a board implements so hge can run on it.
 *
 * The main loop (main.c) only moves samples: it reads a block of ADC readings, runs the
 * controller once per reading, and writes the electrode voltages it produced to the DAC.
 * Everything board-specific is behind these functions. hal_emu.c implements them for the
 * emulated boards (QEMU semihosting: readings from a file, voltages printed as hex).
 *
 * Required for real hardware: hal_init, hal_adc_read, hal_dac_write, hal_time_us, hal_trap.
 * Optional (weak defaults in hal_weak.c): the block variants, UART, telemetry, hal_exit.
 * Units: volts as IEEE-754 single precision at the converter pins, after the board's
 * analogue front end; the board converts volts <-> codes (see "dac"/"adc" in its JSON file).
 * The controller works in the device unit (HGE_ADC_UNIT, e.g. nA): the adapter multiplies
 * every ADC reading by HGE_ADC_UNIT_PER_V (the board file's adc.unitPerV, the transimpedance)
 * before step(), so hal_adc_read returns plain volts and never scales.
 */
#ifndef HGE_HAL_H
#define HGE_HAL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Clocks, converters, UART pins: everything before the first sample, the DACs at the park
 *  voltages (HGE_PARK_VOLTS: the controller ramps from there). */
void hal_init(void);

/** Blocks until the next reading is available and stores it (volts). Returns 0, or -1 when
 *  the stream has ended (replay only; hardware never ends). */
int hal_adc_read(float *volts);

/** Block variant for DMA: fills up to `max` readings, returns how many (0 or less: ended).
 *  Default: loops over hal_adc_read. */
int hal_adc_read_block(float *volts, int max);

/** Writes one sample's electrode voltages (count channels, in electrode order). The values
 *  are already inside each electrode's safe range: the controller clamps them. */
void hal_dac_write(const float *volts, int count);

/** Block variant: `samples` frames of `channels` voltages, frame-major.
 *  Default: loops over hal_dac_write. */
void hal_dac_write_block(const float *volts, int channels, int samples);

/** Microseconds since boot (wraps at 2^32). */
uint32_t hal_time_us(void);

/** Serial link to the host (hardware-in-the-loop protocol, telemetry). hal_uart_read returns
 *  the number of bytes read, which may be fewer than `len` (what the driver had; link.c asks
 *  again for the rest), 0 when `timeout_us` passed without a byte. hal_uart_write returns the
 *  number written or queued, which may be fewer than `len` (0: no room yet; the frames call it
 *  again with the rest), or negative when the UART failed (the rest of that write is dropped). */
int hal_uart_write(const void *buf, int len);
int hal_uart_read(void *buf, int len, uint32_t timeout_us);

/** Called after every sample with the controller's event flags (default: no-op). */
void hal_sample_done(uint32_t sample, uint32_t flags);

/** `count` 32-bit words at `words` (any alignment): one piece of a telemetry record. */
typedef struct { const void *words; int count; } hal_words;
/** A telemetry record from the controller's adapter (app_hge.c: events, counts, status,
 *  weights, gradient, case outputs; see boards/README.md), in `n` pieces sent one after the
 *  other: the pieces are the module's own buffers, not a copy. Sent after epochs, updates,
 *  faults and at the end. Default: dropped. The link (link.c) sends it to the host as a
 *  TELEMETRY frame; the emulated boards print it ("T" and the words in hex). */
void hal_telemetry(const hal_words *parts, int n);

/** Keeps the learned state (a checkpoint blob) where it survives a reset: flash, EEPROM, or
 *  battery-backed RAM. Called when training stops, and by the standalone firmware after every
 *  HGE_CHECKPOINT_EVERY updates (flash wears: erase a sector only when the blob changed). A
 *  reset or power cut in the middle of a store must leave the blob kept before it whole: write
 *  the new one elsewhere, then switch (two sectors alternated; hal_emu.c: a file renamed over
 *  the kept one). Default: not kept beyond RAM. */
void hal_checkpoint_store(const void *blob, int bytes);

/** Reads back the blob hal_checkpoint_store kept (at most `max` bytes); returns its length,
 *  or 0 when there is none. The standalone firmware calls it at power-up and resumes from the
 *  blob when the module accepts it (checksum and contents). Default: none. */
int hal_checkpoint_load(void *blob, int max);

/** A diagnostic line (default: to the UART). */
void hal_log(const char *msg);

/** The module trapped (out-of-bounds access, unreachable, ...): park the outputs at safe
 *  values, report, and never return. */
void hal_trap(int code, const char *msg) __attribute__((noreturn));

/** Ends the program (emulation: QEMU exits with `code`; hardware: parks and sleeps). */
void hal_exit(int code) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif
