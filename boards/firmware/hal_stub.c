/* hal_stub.c: the hooks of hal.h for a real board, as a starting point. It compiles and links
 * (CI builds every defined board with it) but drives nothing: replace each TODO with your
 * converter and timer code. Everything the controller needs is in the hooks below; the main
 * loop (main.c) and the module do the rest. */
#include "hal.h"
#include "board_config.h"

static volatile uint32_t fake_us;

void hal_init(void) {
  /* TODO: clocks, the ADC (with its sample timer at HGE_SAMPLE_RATE_HZ, ideally DMA into a
   * double buffer), the DAC(s) (SPI/I2S/parallel), the UART, and park the outputs:
   *   static const float park[] = HGE_PARK_VOLTS; hal_dac_write(park, HGE_DAC_CHANNELS); */
}

int hal_adc_read(float *volts) {
  /* TODO: wait for the sample clock's next conversion; convert the code to volts at the
   * input of the board: volts = HGE_ADC_MIN_V + code * (HGE_ADC_MAX_V - HGE_ADC_MIN_V) /
   * ((1u << HGE_ADC_BITS) - 1). */
  *volts = 0.0f;
  return 0;
}

void hal_dac_write(const float *volts, int count) {
  /* TODO: for each channel, code = (volts - HGE_DAC_MIN_V) * ((1u << HGE_DAC_BITS) - 1) /
   * (HGE_DAC_MAX_V - HGE_DAC_MIN_V), rounded and clamped to the code range; write all
   * channels, then latch them together (LDAC) so they change on the same sample edge. */
  (void)volts;
  (void)count;
}

uint32_t hal_time_us(void) {
  /* TODO: a free-running microsecond timer (e.g. DWT->CYCCNT / (HGE_CLOCK_HZ / 1000000)). */
  return fake_us++;
}

void hal_trap(int code, const char *msg) {
  static const float park[] = HGE_PARK_VOLTS;
  hal_dac_write(park, (int)(sizeof park / sizeof park[0]));
  hal_log(msg);
  (void)code;
  for (;;) {} /* TODO: signal the fault (LED), wait for a watchdog reset */
}
