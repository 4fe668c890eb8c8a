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

#if defined(__ARM_FEATURE_UNALIGNED)
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

#endif
