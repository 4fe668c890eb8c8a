/* A static-memory runtime for wasm2c 1.0.32 output on bare metal.
 *
 * wasm2c's own runtime (wasm-rt-impl.c) reserves memory with mmap and registers function
 * types with malloc. This one does neither: the module's linear memory is one static array,
 * function types live in a fixed table, and a trap calls hal_trap(), which reports and halts.
 * Compile the generated code with -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0 (explicit bounds checks,
 * the default on 32-bit targets) or, for the unchecked build, with
 * -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=1 -DWASM_RT_SKIP_SIGNAL_RECOVERY=1 (no bounds checks at all:
 * only for a module that is known to stay inside its memory).
 */
#include <stdarg.h>
#include <string.h>

#include "wasm-rt.h"
#include "hal.h"

#include "wasm-access.h" /* HGE_WASM_MEMORY_BYTES: the bytes of linear memory (boards/build.ts:
                            moduleMemoryBytes, the end of the module's static buffers) */
#ifndef HGE_WASM_MAX_FUNC_TYPES
#define HGE_WASM_MAX_FUNC_TYPES 32
#endif
#ifndef HGE_WASM_MAX_TABLE_ELEMS
#define HGE_WASM_MAX_TABLE_ELEMS 64
#endif

/* The module's linear memory; the generated code addresses it directly (wasm-access.h). */
uint8_t hge_wasm_memory[HGE_WASM_MEMORY_BYTES] __attribute__((aligned(8)));
static wasm_rt_funcref_t table_pool[HGE_WASM_MAX_TABLE_ELEMS];
static uint32_t table_used;

#if WASM_RT_USE_STACK_DEPTH_COUNT
uint32_t wasm_rt_call_stack_depth;
#endif

/* A signature is stored as up to 15 type codes packed 4 bits each, plus the counts. */
typedef struct { uint8_t params, results; uint64_t packed; } func_type_t;
static func_type_t func_types[HGE_WASM_MAX_FUNC_TYPES];
static uint32_t func_type_count;

void wasm_rt_init(void) {}
bool wasm_rt_is_initialized(void) { return true; }
void wasm_rt_free(void) { func_type_count = 0; table_used = 0; }

void wasm_rt_trap(wasm_rt_trap_t code) {
  hal_trap((int)code, wasm_rt_strerror(code));
}

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  func_type_t t = { (uint8_t)params, (uint8_t)results, 0 };
  va_list ap;
  va_start(ap, results);
  if (params + results > 15) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  for (uint32_t i = 0; i < params + results; i++)
    t.packed |= (uint64_t)(va_arg(ap, int) & 0xf) << (4 * i);
  va_end(ap);
  for (uint32_t i = 0; i < func_type_count; i++)
    if (func_types[i].params == t.params && func_types[i].results == t.results &&
        func_types[i].packed == t.packed)
      return i + 1;
  if (func_type_count == HGE_WASM_MAX_FUNC_TYPES) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  func_types[func_type_count++] = t;
  return func_type_count;
}

void wasm_rt_allocate_memory(wasm_rt_memory_t* m, uint32_t initial_pages, uint32_t max_pages) {
  /* One instance, one memory, of any number of pages: only its first HGE_WASM_MEMORY_BYTES
   * exist (the module's static buffers); every access is checked against that size
   * (wasm-access.h: HGE_MEMCHECK), so one above it traps. */
  if (m == NULL) hal_trap(WASM_RT_TRAP_OOB, "no memory to allocate");
  memset(hge_wasm_memory, 0, sizeof hge_wasm_memory);
  m->data = hge_wasm_memory;
  m->pages = initial_pages;
  m->max_pages = max_pages;
  m->size = initial_pages ? HGE_WASM_MEMORY_BYTES : 0;
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t* m, uint32_t delta) {
  return delta == 0 ? m->pages : UINT32_MAX; /* memory.grow always fails */
}

void wasm_rt_free_memory(wasm_rt_memory_t* m) { (void)m; }

void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t* t, uint32_t elements, uint32_t max) {
  if (elements > HGE_WASM_MAX_TABLE_ELEMS - table_used) hal_trap(WASM_RT_TRAP_EXHAUSTION, "table pool exhausted");
  t->data = &table_pool[table_used];
  memset(t->data, 0, elements * sizeof *t->data);
  table_used += elements;
  t->size = elements;
  t->max_size = elements; /* tables do not grow */
  (void)max;
}

void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t* t) { (void)t; }

uint32_t wasm_rt_grow_funcref_table(wasm_rt_funcref_table_t* t, uint32_t delta, wasm_rt_funcref_t init) {
  (void)init;
  return delta == 0 ? t->size : UINT32_MAX;
}

const char* wasm_rt_strerror(wasm_rt_trap_t trap) {
  switch (trap) {
    case WASM_RT_TRAP_NONE: return "no error";
    case WASM_RT_TRAP_OOB: return "out-of-bounds memory access";
    case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WASM_RT_TRAP_UNREACHABLE: return "unreachable executed";
    case WASM_RT_TRAP_CALL_INDIRECT: return "invalid call_indirect";
    case WASM_RT_TRAP_EXHAUSTION: return "call stack or runtime table exhausted";
    default: return "trap";
  }
}
