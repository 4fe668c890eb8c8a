#include "bench.h"
#ifdef HGE_BENCH
#include "hal.h"

void emu_put_hex(uint32_t v, char sep);
void emu_put_str(const char *s);

__attribute__((noinline)) void hge_bench_begin(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) void hge_bench_end(void) { __asm__ volatile("" ::: "memory"); }

static uint32_t calls, minimum = UINT32_MAX, maximum;
static uint64_t total;
static uint32_t overhead = UINT32_MAX;

void bench_record(uint32_t n) {
  if (overhead == UINT32_MAX) {
#if defined(__riscv)
    /* the two counter reads with nothing between them */
    uint32_t b0 = bench_instret();
    uint32_t b1 = bench_instret();
    overhead = b1 - b0;
#else
    overhead = 0;
#endif
  }
  n -= overhead;
#ifdef HGE_BENCH_TRACE
  emu_put_str("B ");
  emu_put_hex(n, '\n');
#endif
  calls++;
  total += n;
  if (n < minimum) minimum = n;
  if (n > maximum) maximum = n;
}

void bench_report(void) {
  /* "BENCH calls total_hi total_lo min max overhead", hex */
  emu_put_str("BENCH ");
  emu_put_hex(calls, ' ');
  emu_put_hex((uint32_t)(total >> 32), ' ');
  emu_put_hex((uint32_t)total, ' ');
  emu_put_hex(minimum, ' ');
  emu_put_hex(maximum, ' ');
  emu_put_hex(overhead, '\n');
}
#endif
