/* Board driver for the Arm MPS2 FPGA boards (QEMU -M mps2-an386): CMSDK APB UART0 at
 * 0x40004000 (receive interrupt: IRQ 0) and the SysTick timer at the 25 MHz system clock,
 * ticking every millisecond. Waiting for the UART sleeps (WFI) until a byte or the next tick
 * arrives, as firmware on a real board would; the two handlers only count and acknowledge. */
#include "hal.h"
#include "board_config.h"

#define UART0 ((volatile uint32_t *)0x40004000u)
enum { UART_DATA = 0, UART_STATE = 1, UART_CTRL = 2, UART_INT = 3, UART_BAUDDIV = 4 };
enum { STATE_TX_FULL = 1, STATE_RX_FULL = 2, CTRL_TX = 1, CTRL_RX = 2, CTRL_RX_INT = 8, INT_RX = 2 };
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define NVIC_ICPR0 (*(volatile uint32_t *)0xE000E280u)
#define SCB_ICSR (*(volatile uint32_t *)0xE000ED04u)
#define ICSR_PENDSTSET (1u << 26)
#define UART0_RX_IRQ 0
#define TICKS_PER_MS (HGE_CLOCK_HZ / 1000u)

static volatile uint32_t milliseconds;

void SysTick_Handler(void) { milliseconds++; }
/* The only external interrupt enabled: UART0's receive (the byte is read by hal_uart_read). */
void IRQ_Handler(void) {
  UART0[UART_INT] = INT_RX;
  NVIC_ICPR0 = 1u << UART0_RX_IRQ;
}

void board_init(void) {
  UART0[UART_BAUDDIV] = HGE_CLOCK_HZ / 115200u;
  UART0[UART_CTRL] = CTRL_TX | CTRL_RX;
}

/* The tick and the receive interrupt start with the first wait or clock reading: a firmware
 * that never waits on the UART (main.c) runs without interrupts, so instruction counts per
 * call stay exact. */
static void start_ticking(void) {
  static int started;
  if (started) return;
  started = 1;
  UART0[UART_CTRL] = CTRL_TX | CTRL_RX | CTRL_RX_INT;
  NVIC_ISER0 = 1u << UART0_RX_IRQ;
  SYST_RVR = TICKS_PER_MS - 1;
  SYST_CVR = 0;
  SYST_CSR = 7; /* enabled, tick interrupt, processor clock */
  __asm__ volatile("cpsie i" ::: "memory");
}

uint32_t hal_time_us(void) {
  start_ticking();
  uint32_t ms, cvr, pending;
  /* With interrupts off (hal_uart_read) the counter can reload before its tick is counted:
   * then the tick is pending and counts here. Reading twice rules out a reload between the
   * counter and the pending bit (else time would step back a millisecond). */
  do {
    ms = milliseconds;
    cvr = SYST_CVR;
    pending = SCB_ICSR & ICSR_PENDSTSET;
  } while (SYST_CVR > cvr || ms != milliseconds);
  if (pending) ms++;
  return ms * 1000u + (TICKS_PER_MS - 1 - cvr) / (TICKS_PER_MS / 1000u);
}

int hal_uart_write(const void *buf, int len) {
  const uint8_t *p = buf;
  for (int i = 0; i < len; i++) {
    while (UART0[UART_STATE] & STATE_TX_FULL) {}
    UART0[UART_DATA] = p[i];
  }
  return len;
}

/* At most this many bytes a call (a test's build: a driver that hands over what it has). */
#ifndef HGE_UART_READ_CHUNK
#define HGE_UART_READ_CHUNK 0x7fffffff
#endif

int hal_uart_read(void *buf, int len, uint32_t timeout_us) {
  if (len > HGE_UART_READ_CHUNK) len = HGE_UART_READ_CHUNK;
  uint8_t *p = buf;
  int n = 0;
  uint32_t t0 = hal_time_us();
  while (n < len) {
    /* interrupts off between the look and the sleep: an interrupt arriving in between stays
     * pending and ends the WFI at once (then runs when they are on again) */
    __asm__ volatile("cpsid i" ::: "memory");
    if (UART0[UART_STATE] & STATE_RX_FULL) {
      __asm__ volatile("cpsie i" ::: "memory");
      p[n++] = (uint8_t)UART0[UART_DATA];
      t0 = hal_time_us();
      continue;
    }
    if (hal_time_us() - t0 > timeout_us) { __asm__ volatile("cpsie i" ::: "memory"); break; }
    __asm__ volatile("wfi\n cpsie i" ::: "memory");
  }
  return n;
}
