/* Default implementations of the optional hooks in hal.h; a board overrides any of them. */
#include "hal.h"

#define WEAK __attribute__((weak))

WEAK int hal_adc_read_block(float *volts, int max) {
  int n = 0;
  while (n < max && hal_adc_read(&volts[n]) == 0) n++;
  return n;
}

WEAK void hal_dac_write_block(const float *volts, int channels, int samples) {
  for (int i = 0; i < samples; i++) hal_dac_write(volts + i * channels, channels);
}

WEAK void hal_sample_done(uint32_t sample, uint32_t flags) { (void)sample; (void)flags; }

WEAK void hal_telemetry(const hal_words *parts, int n) { (void)parts; (void)n; }
WEAK void hal_checkpoint_store(const void *blob, int bytes) { (void)blob; (void)bytes; }
WEAK int hal_checkpoint_load(void *blob, int max) { (void)blob; (void)max; return 0; }

WEAK int hal_uart_write(const void *buf, int len) { (void)buf; return len; }
WEAK int hal_uart_read(void *buf, int len, uint32_t timeout_us) { (void)buf; (void)len; (void)timeout_us; return 0; }

WEAK void hal_log(const char *msg) {
  int n = 0;
  while (msg[n]) n++;
  hal_uart_write(msg, n);
  hal_uart_write("\n", 1);
}

WEAK void hal_exit(int code) {
  (void)code;
  for (;;) {}
}
