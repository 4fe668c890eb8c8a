/* Board driver for QEMU's RISC-V "virt" machine: NS16550A UART at 0x10000000 (receive
 * interrupt: PLIC source 10) and the CLINT machine timer (mtime, 10 MHz) at 0x0200BFF8.
 * Waiting for the UART sleeps (WFI) until a byte arrives or a 1 ms timer compare fires, as
 * firmware on a real core would; interrupts stay disabled (mstatus.MIE = 0), they only end the
 * WFI. Started by picolibc's crt0 (--crt0=minimal: stack, .data, .bss, FPU on); its semihost
 * crt0 would add a fault printer that brings in printf (~10 KB), so faults come here. */
#include "hal.h"

#define UART ((volatile uint8_t *)0x10000000u)
enum { RBR_THR = 0, IER = 1, FCR = 2, LCR = 3, LSR = 5 };
enum { LSR_DATA_READY = 0x01, LSR_THR_EMPTY = 0x20, IER_RX_DATA = 0x01 };
#define MTIME_LO (*(volatile uint32_t *)0x0200BFF8u)
#define MTIME_HI (*(volatile uint32_t *)0x0200BFFCu)
#define MTIMECMP_LO (*(volatile uint32_t *)0x02004000u)
#define MTIMECMP_HI (*(volatile uint32_t *)0x02004004u)
#define PLIC_PRIORITY(source) (*(volatile uint32_t *)(0x0C000000u + 4u * (source)))
#define PLIC_ENABLE0 (*(volatile uint32_t *)0x0C002000u) /* hart 0, machine mode */
#define PLIC_THRESHOLD0 (*(volatile uint32_t *)0x0C200000u)
#define PLIC_CLAIM0 (*(volatile uint32_t *)0x0C200004u)
#define UART_IRQ 10
#define MIE_MTIE (1u << 7)
#define MIE_MEIE (1u << 11)
#define TICKS_PER_US 10u

/* .option arch: -march=rv32imc (the ESP32-C3 proxy) names no Zicsr; adding it to -march
 * would miss the multilib */
#define CSR_WRITE(csr, value) __asm__ volatile(".option push\n.option arch, +zicsr\ncsrw " #csr ", %0\n.option pop" ::"r"(value))
#define CSR_READ(csr, out) __asm__ volatile(".option push\n.option arch, +zicsr\ncsrr %0, " #csr "\n.option pop" : "=r"(out))

/* Exceptions (illegal instruction, access fault, ...) end the run through hal_trap. */
__attribute__((interrupt("machine"), aligned(4))) static void trap_entry(void) {
  uint32_t cause;
  CSR_READ(mcause, cause);
  hal_trap(0x100 + (int)(cause & 0xff), "cpu fault");
}

void board_init(void) {
  CSR_WRITE(mtvec, trap_entry);
  UART[IER] = 0;
  UART[LCR] = 0x83; /* 8N1, divisor latch open */
  UART[0] = 1;      /* divisor 1: the fastest rate (QEMU times the FIFO's timeout from it) */
  UART[1] = 0;
  UART[LCR] = 0x03; /* 8N1 */
  UART[FCR] = 0xC1; /* FIFO on, receive trigger at 14 bytes: QEMU then delivers up to 14 at once */
  UART[IER] = IER_RX_DATA;
  PLIC_PRIORITY(UART_IRQ) = 1;
  PLIC_ENABLE0 = 1u << UART_IRQ;
  PLIC_THRESHOLD0 = 0;
  CSR_WRITE(mie, MIE_MTIE | MIE_MEIE); /* wake-up sources; mstatus.MIE stays 0 */
}

static uint64_t mtime(void) {
  uint32_t hi, lo;
  do { hi = MTIME_HI; lo = MTIME_LO; } while (hi != MTIME_HI);
  return ((uint64_t)hi << 32) | lo;
}

uint32_t hal_time_us(void) { return (uint32_t)(mtime() / TICKS_PER_US); }

int hal_uart_write(const void *buf, int len) {
  const uint8_t *p = buf;
  for (int i = 0; i < len; i++) {
    while (!(UART[LSR] & LSR_THR_EMPTY)) {}
    UART[RBR_THR] = p[i];
  }
  return len;
}

/* Sleeps until the UART has data or about a millisecond has passed. */
static void wait_for_uart(void) {
  uint64_t wake = mtime() + 1000u * TICKS_PER_US;
  MTIMECMP_HI = 0xFFFFFFFFu; /* no early match while the two halves are written */
  MTIMECMP_LO = (uint32_t)wake;
  MTIMECMP_HI = (uint32_t)(wake >> 32);
  if (!(UART[LSR] & LSR_DATA_READY)) __asm__ volatile("wfi" ::: "memory");
  uint32_t claimed = PLIC_CLAIM0; /* acknowledge the UART's interrupt, if it was that */
  if (claimed) PLIC_CLAIM0 = claimed;
}

int hal_uart_read(void *buf, int len, uint32_t timeout_us) {
  uint8_t *p = buf;
  int n = 0;
  uint32_t t0 = hal_time_us();
  while (n < len) {
    if (UART[LSR] & LSR_DATA_READY) { p[n++] = UART[RBR_THR]; t0 = hal_time_us(); continue; }
    if (hal_time_us() - t0 > timeout_us) break;
    wait_for_uart();
  }
  return n;
}
