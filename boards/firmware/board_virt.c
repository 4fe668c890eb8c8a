/* Board driver for QEMU's RISC-V "virt" machine: NS16550A UART at 0x10000000 and the CLINT
 * machine timer (mtime, 10 MHz) at 0x0200BFF8. Started by picolibc's crt0 (--crt0=minimal:
 * stack, .data, .bss, FPU on); its semihost crt0 would add a fault printer that brings in
 * printf (~10 KB), so faults come here instead. */
#include "hal.h"

#define UART ((volatile uint8_t *)0x10000000u)
enum { RBR_THR = 0, IER = 1, FCR = 2, LCR = 3, LSR = 5 };
#define MTIME_LO (*(volatile uint32_t *)0x0200BFF8u)
#define MTIME_HI (*(volatile uint32_t *)0x0200BFFCu)

/* Exceptions (illegal instruction, access fault, ...) end the run through hal_trap. */
__attribute__((interrupt("machine"), aligned(4))) static void trap_entry(void) {
  uint32_t cause;
  __asm__ volatile(".option push\n.option arch, +zicsr\ncsrr %0, mcause\n.option pop" : "=r"(cause));
  hal_trap(0x100 + (int)(cause & 0xff), "cpu fault");
}

void board_init(void) {
  /* .option arch: -march=rv32imc (the ESP32-C3 proxy) names no Zicsr; adding it to -march
   * would miss the multilib */
  __asm__ volatile(".option push\n.option arch, +zicsr\ncsrw mtvec, %0\n.option pop" ::"r"(trap_entry));
  UART[IER] = 0;
  UART[LCR] = 0x03; /* 8N1 */
  UART[FCR] = 0x01; /* FIFO on */
}

uint32_t hal_time_us(void) {
  uint32_t hi, lo;
  do { hi = MTIME_HI; lo = MTIME_LO; } while (hi != MTIME_HI);
  return (uint32_t)((((uint64_t)hi << 32) | lo) / 10u);
}

int hal_uart_write(const void *buf, int len) {
  const uint8_t *p = buf;
  for (int i = 0; i < len; i++) {
    while (!(UART[LSR] & 0x20)) {}
    UART[RBR_THR] = p[i];
  }
  return len;
}

int hal_uart_read(void *buf, int len, uint32_t timeout_us) {
  uint8_t *p = buf;
  int n = 0;
  uint32_t t0 = hal_time_us();
  while (n < len) {
    if (UART[LSR] & 0x01) { p[n++] = UART[RBR_THR]; t0 = hal_time_us(); }
    else if (hal_time_us() - t0 > timeout_us) break;
  }
  return n;
}
