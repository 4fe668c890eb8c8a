/* Instruction counting around each call into the module (built with -DHGE_BENCH).
 * RISC-V: minstret, read before and after the call (exact under QEMU -icount shift=0).
 * Everywhere: two never-inlined marker functions bracket the call, so an emulator trace
 * (QEMU -d exec,nochain -singlestep) can count the instructions between them. */
#ifndef HGE_BENCH_H
#define HGE_BENCH_H
#include <stdint.h>

#ifdef HGE_BENCH
void hge_bench_begin(void);
void hge_bench_end(void);
void bench_record(uint32_t instructions);
void bench_report(void);
#if defined(__riscv)
static inline uint32_t bench_instret(void) {
  uint32_t v;
  /* .option arch: rv32imc has no Zicsr in -march (rv32imc_zicsr would miss the multilib) */
  __asm__ volatile(".option push\n.option arch, +zicsr\ncsrr %0, minstret\n.option pop" : "=r"(v));
  return v;
}
#define BENCH_MEASURE(stmt)                                  \
  do {                                                       \
    hge_bench_begin();                                       \
    uint32_t b0_ = bench_instret();                          \
    stmt;                                                    \
    uint32_t b1_ = bench_instret();                          \
    hge_bench_end();                                         \
    bench_record(b1_ - b0_);                                 \
  } while (0)
#else
#define BENCH_MEASURE(stmt) \
  do {                      \
    hge_bench_begin();      \
    stmt;                   \
    hge_bench_end();        \
  } while (0)
#endif
#else
#define BENCH_MEASURE(stmt) stmt
static inline void bench_report(void) {}
#endif

#endif
