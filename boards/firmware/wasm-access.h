/* wasm-access.h: how the generated code moves a value in or out of linear memory.
 * Force-included (-include) into wasm2c's output by boards/build.ts, which also rewrites the
 * output's load/store helpers to use these two macros instead of a plain memcpy.
 *
 * A wasm access may be unaligned, so wasm2c copies bytes with memcpy. On a core that
 * gcc treats as strict-alignment (RISC-V, Cortex-M0+) a memcpy from a pointer of unknown
 * alignment is four byte loads and shifts (RISC-V) or a call to memcpy (ARMv6-M), for every
 * f32 the module reads. The module's own accesses are aligned, and the memory array is
 * 8-byte aligned, so an alignment test picks a single aligned load or store, and the rare
 * unaligned access still takes the byte-wise path: same results, any access pattern. */
#ifndef HGE_WASM_ACCESS_H
#define HGE_WASM_ACCESS_H
#include <stdint.h>

/* Bytes of linear memory the board provides (wasm-rt-static.c). boards/build.ts passes the end
 * of the module's static buffers (its MEMORY_USED export, rounded up to 8): the module never
 * touches memory above it, and an access above it traps. Default: one 64 KiB page. */
#ifndef HGE_WASM_MEMORY_BYTES
#define HGE_WASM_MEMORY_BYTES 65536u
#endif

/* The one memory, a static array: the generated code addresses it directly and checks bounds
 * against its constant size. A store into a distinct array cannot change the instance (its
 * globals, the memory's data pointer and size), so the compiler keeps those in registers;
 * through mem->data (a char pointer) it had to reload them after every store. */
extern uint8_t hge_wasm_memory[HGE_WASM_MEMORY_BYTES];
#define HGE_MEMORY_DATA(mem) hge_wasm_memory
/* a + n > size, written for a 32-bit core: the address is a u64 (a u32 plus the access's
 * offset); its high word is nonzero only when that sum carried. wasm2c's own form (a 64-bit
 * add and compare) costs about five instructions an access, this one two. */
#define HGE_MEMCHECK(mem, a, n) \
  if (UNLIKELY((uint32_t)((uint64_t)(a) >> 32) | ((uint32_t)(a) > HGE_WASM_MEMORY_BYTES - (n)))) TRAP(OOB);

/* The address of an access with a constant offset (the module folds its buffers' addresses
 * into offsets: scripts/fold-offsets.mjs). wasm2c writes (u64)(x) + offset, and the check above
 * then tests the sum's carry as well; boards/build.ts rewrites it to HGE_AT(x, offset, n),
 * which traps where the access would not fit (x > size - n - offset, one compare: the offset
 * is a constant) and is otherwise the sum, known to fit, so the compiler drops the check. */
#if WASM_RT_MEMCHECK_SIGNAL_HANDLER
#define HGE_AT(x, offset, n) ((uint64_t)(x) + (offset))
#else
#define HGE_AT(x, offset, n)                                                                                 \
  (UNLIKELY((offset) > HGE_WASM_MEMORY_BYTES - (n) || (uint32_t)(x) > HGE_WASM_MEMORY_BYTES - (n) - (offset)) \
       ? (TRAP(OOB), (uint64_t)0)                                                                            \
       : (uint64_t)((uint32_t)(x) + (offset)))
#endif

#if defined(HGE_ASSUME_ALIGNED)
/* Built with `aligned` (boards/build.ts): every access is taken to be naturally aligned (up
 * to 4 bytes), as the controller's are: AssemblyScript lays out its static buffers aligned and
 * reads them with natural alignment. The compiler then uses the core's aligned load and store
 * instructions (straight into FPU registers on the M4F). A misaligned access is not silently
 * wrong: the core either performs it (ARMv7-M LDR/STR) or faults (VLDR, ARMv6-M, most RISC-V
 * cores), and a fault parks the outputs through hal_trap. */
/* The access is typed (the value's own type, may_alias, at most 4-byte alignment), not a
 * memcpy: gcc lowers a 4-byte memcpy of an f32 to an integer load or store plus a move
 * between the core and the FPU; a typed access is one VLDR or VSTR. */
#define HGE_ALIGNMENT(n) ((n) < 4 ? (n) : 4)
#define HGE_LOAD_BYTES(dst, src, n)                                                          \
  do {                                                                                       \
    typedef __typeof__(*(dst)) __attribute__((may_alias, aligned(HGE_ALIGNMENT(n)))) hge_t_; \
    *(dst) = *(const hge_t_ *)(const void *)(src);                                          \
  } while (0)
#define HGE_STORE_BYTES(dst, src, n)                                                         \
  do {                                                                                       \
    typedef __typeof__(*(src)) __attribute__((may_alias, aligned(HGE_ALIGNMENT(n)))) hge_t_; \
    *(hge_t_ *)(void *)(dst) = *(src);                                                       \
  } while (0)
#elif defined(__ARM_FEATURE_UNALIGNED)
/* ARMv7-M and up: LDR/STR take unaligned addresses at full speed, so the plain copy is one
 * instruction (plus a move into the FPU for an f32); a test would only add a branch. */
#define HGE_LOAD_BYTES(dst, src, n) __builtin_memcpy((dst), (src), (n))
#define HGE_STORE_BYTES(dst, src, n) __builtin_memcpy((dst), (src), (n))
#else
#define HGE_LOAD_BYTES(dst, src, n)                                         \
  do {                                                                       \
    const uint8_t *s_ = (const uint8_t *)(src);                              \
    if (__builtin_expect(((uintptr_t)s_ & ((n) - 1)) == 0, 1))               \
      __builtin_memcpy((dst), __builtin_assume_aligned(s_, (n)), (n));       \
    else                                                                     \
      __builtin_memcpy((dst), s_, (n));                                      \
  } while (0)

#define HGE_STORE_BYTES(dst, src, n)                                        \
  do {                                                                       \
    uint8_t *d_ = (uint8_t *)(dst);                                          \
    if (__builtin_expect(((uintptr_t)d_ & ((n) - 1)) == 0, 1))               \
      __builtin_memcpy(__builtin_assume_aligned(d_, (n)), (src), (n));       \
    else                                                                     \
      __builtin_memcpy(d_, (src), (n));                                      \
  } while (0)
#endif

/* i32.trunc_sat_f32_s (AssemblyScript's <i32> of an f32): wasm2c tests NaN and both bounds
 * before a C cast, about eight instructions. The cores' own conversions already saturate:
 * ARM's VCVT.S32.F32 also turns NaN into 0, exactly the wasm result; RISC-V's FCVT.W.S turns
 * NaN into INT32_MAX, so only NaN is tested first. (Inline assembly: a C cast of an
 * out-of-range float is undefined behaviour, whatever instruction it compiles to.) */
#if defined(__arm__) && defined(__ARM_FP) && (__ARM_FP & 4)
static inline uint32_t hge_i32_trunc_sat_s_f32(float x) {
  float converted;
  uint32_t result;
  __asm__("vcvt.s32.f32 %0, %1" : "=t"(converted) : "t"(x));
  __asm__("vmov %0, %1" : "=r"(result) : "t"(converted));
  return result;
}
#define HGE_I32_TRUNC_SAT_S_F32(x) hge_i32_trunc_sat_s_f32(x)
#elif defined(__riscv) && defined(__riscv_flen) && __riscv_flen >= 32
static inline uint32_t hge_i32_trunc_sat_s_f32(float x) {
  uint32_t result;
  if (__builtin_expect(x != x, 0)) return 0;
  __asm__("fcvt.w.s %0, %1, rtz" : "=r"(result) : "f"(x));
  return result;
}
#define HGE_I32_TRUNC_SAT_S_F32(x) hge_i32_trunc_sat_s_f32(x)
#endif

#endif
