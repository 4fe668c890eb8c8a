/* Cortex-M startup: vector table, reset handler (FPU on, .data copied, .bss zeroed), faults
 * reported through hal_trap. Works for M0+/M3/M4/M7; the FPU is enabled when compiled for
 * one (__ARM_FP). */
#include <stdint.h>
#include <string.h>

#include "hal.h"

extern uint32_t __stack_bottom, __stack_top, __data_load, __data_start, __data_end, __bss_start, __bss_end;
int main(void);
#define STACK_PAINT 0x5A5AA5A5u

void Reset_Handler(void) __attribute__((noreturn));
void Reset_Handler(void) {
#if defined(__ARM_FP)
  /* CPACR: full access to CP10 and CP11 (the FPU) before any floating-point instruction. */
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
  __asm__ volatile("dsb\n isb" ::: "memory");
#endif
  uint32_t *src = &__data_load, *dst = &__data_start;
  while (dst < &__data_end) *dst++ = *src++;
  for (dst = &__bss_start; dst < &__bss_end;) *dst++ = 0;
#ifdef HGE_STACK_REPORT
  /* paint the stack below this frame: hge_stack_used() finds the deepest word ever written */
  for (dst = &__stack_bottom; dst < (uint32_t *)__builtin_frame_address(0) - 16;) *dst++ = STACK_PAINT;
#endif
  hal_exit(main());
}

#ifdef HGE_STACK_REPORT
/* Bytes of stack used so far: from the top down to the deepest word no longer painted. */
uint32_t hge_stack_used(void) {
  const uint32_t *p = &__stack_bottom;
  while (p < &__stack_top && *p == STACK_PAINT) p++;
  return (uint32_t)((const char *)&__stack_top - (const char *)p);
}
#endif

static void fault(void) { hal_trap(0x100, "cpu fault"); }
static void unexpected(void) { hal_trap(0x101, "unexpected interrupt"); }

void NMI_Handler(void) __attribute__((weak, alias("unexpected")));
void HardFault_Handler(void) __attribute__((weak, alias("fault")));
void MemManage_Handler(void) __attribute__((weak, alias("fault")));
void BusFault_Handler(void) __attribute__((weak, alias("fault")));
void UsageFault_Handler(void) __attribute__((weak, alias("fault")));
void SVC_Handler(void) __attribute__((weak, alias("unexpected")));
void PendSV_Handler(void) __attribute__((weak, alias("unexpected")));
void SysTick_Handler(void) __attribute__((weak, alias("unexpected")));
void IRQ_Handler(void) __attribute__((weak, alias("unexpected")));

typedef void (*vector_t)(void);
__attribute__((section(".vectors"), used)) const vector_t vector_table[16 + 32] = {
  (vector_t)&__stack_top, Reset_Handler, NMI_Handler, HardFault_Handler, MemManage_Handler,
  BusFault_Handler, UsageFault_Handler, 0, 0, 0, 0, SVC_Handler, 0, 0, PendSV_Handler,
  SysTick_Handler,
  [16 ... 47] = IRQ_Handler,
};
