/* Board driver for the Arm MPS2 FPGA boards (QEMU -M mps2-an386): CMSDK APB UART0 at
 * 0x40004000 and the SysTick timer at the 25 MHz system clock. */
#include "hal.h"
#include "board_config.h"

#define UART0 ((volatile uint32_t *)0x40004000u)
enum { UART_DATA = 0, UART_STATE = 1, UART_CTRL = 2, UART_BAUDDIV = 4 };
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

static uint32_t last_cvr, ticks_hi;

void board_init(void) {
  UART0[UART_BAUDDIV] = HGE_CLOCK_HZ / 115200u;
  UART0[UART_CTRL] = 3; /* TX and RX enabled */
  SYST_RVR = 0xFFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 5; /* enabled, processor clock, no interrupt */
  last_cvr = 0xFFFFFFu;
}

uint32_t hal_time_us(void) {
  /* 24-bit down counter: accumulate elapsed ticks (call at least every 0.6 s). */
  uint32_t cvr = SYST_CVR;
  ticks_hi += (last_cvr - cvr) & 0xFFFFFFu;
  last_cvr = cvr;
  return (uint32_t)(((uint64_t)ticks_hi * 1000000u) / HGE_CLOCK_HZ);
}

int hal_uart_write(const void *buf, int len) {
  const uint8_t *p = buf;
  for (int i = 0; i < len; i++) {
    while (UART0[UART_STATE] & 1u) {}
    UART0[UART_DATA] = p[i];
  }
  return len;
}

int hal_uart_read(void *buf, int len, uint32_t timeout_us) {
  uint8_t *p = buf;
  int n = 0;
  uint32_t t0 = hal_time_us();
  while (n < len) {
    if (UART0[UART_STATE] & 2u) { p[n++] = (uint8_t)UART0[UART_DATA]; t0 = hal_time_us(); }
    else if (hal_time_us() - t0 > timeout_us) break;
  }
  return n;
}
