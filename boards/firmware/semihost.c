#include <string.h>
#include "semihost.h"

#if defined(__arm__)
uintptr_t semihost_call(uintptr_t op, uintptr_t arg) {
  register uintptr_t r0 __asm__("r0") = op;
  register uintptr_t r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}
#elif defined(__riscv)
/* The three instructions must be uncompressed and in one page: a 16-byte aligned block. */
__attribute__((naked, noinline, aligned(16))) uintptr_t semihost_call(uintptr_t op, uintptr_t arg) {
  __asm__ volatile(
      ".option push\n .option norvc\n"
      "slli zero, zero, 0x1f\n ebreak\n srai zero, zero, 0x7\n"
      ".option pop\n ret\n");
}
#else
#error "semihosting: unknown architecture"
#endif

int semihost_open(const char *path, int mode) {
  uintptr_t a[3] = { (uintptr_t)path, (uintptr_t)mode, strlen(path) };
  return (int)semihost_call(SH_OPEN, (uintptr_t)a);
}
int semihost_read(int h, void *buf, int len) {
  uintptr_t a[3] = { (uintptr_t)h, (uintptr_t)buf, (uintptr_t)len };
  return len - (int)semihost_call(SH_READ, (uintptr_t)a);
}
int semihost_write(int h, const void *buf, int len) {
  uintptr_t a[3] = { (uintptr_t)h, (uintptr_t)buf, (uintptr_t)len };
  return len - (int)semihost_call(SH_WRITE, (uintptr_t)a);
}
int semihost_close(int h) {
  uintptr_t a[1] = { (uintptr_t)h };
  return (int)semihost_call(SH_CLOSE, (uintptr_t)a);
}
int semihost_rename(const char *from, const char *to) {
  uintptr_t a[4] = { (uintptr_t)from, strlen(from), (uintptr_t)to, strlen(to) };
  return (int)semihost_call(SH_RENAME, (uintptr_t)a);
}
int semihost_cmdline(char *buf, int len) {
  uintptr_t a[2] = { (uintptr_t)buf, (uintptr_t)len };
  return (int)semihost_call(SH_GET_CMDLINE, (uintptr_t)a);
}
void semihost_exit(int code) {
  /* SYS_EXIT_EXTENDED carries the exit code on 32-bit targets (QEMU exits with it). */
  uintptr_t a[2] = { 0x20026 /* ADP_Stopped_ApplicationExit */, (uintptr_t)code };
  semihost_call(SH_EXIT_EXTENDED, (uintptr_t)a);
  for (;;) {}
}
