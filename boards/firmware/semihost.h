/* Semihosting: the debugger/emulator services the emulated boards use for files, console
 * output and the exit code. Arm (bkpt 0xAB) and RISC-V (the slli/ebreak/srai sequence). */
#ifndef HGE_SEMIHOST_H
#define HGE_SEMIHOST_H
#include <stdint.h>

enum {
  SH_OPEN = 0x01, SH_CLOSE = 0x02, SH_WRITE0 = 0x04, SH_WRITE = 0x05, SH_READ = 0x06,
  SH_FLEN = 0x0c, SH_RENAME = 0x0f, SH_GET_CMDLINE = 0x15, SH_EXIT = 0x18, SH_EXIT_EXTENDED = 0x20,
};
enum { SH_MODE_RB = 1, SH_MODE_W = 4, SH_MODE_WB = 5 };

uintptr_t semihost_call(uintptr_t op, uintptr_t arg);
int semihost_open(const char *path, int mode);          /* handle, or -1 */
int semihost_read(int handle, void *buf, int len);      /* bytes read */
int semihost_write(int handle, const void *buf, int len); /* bytes written */
int semihost_close(int handle);
/* Renames host file `from` to `to`, replacing it (the host's rename(2): atomic); 0 on success. */
int semihost_rename(const char *from, const char *to);
void semihost_exit(int code) __attribute__((noreturn));
/* The command line QEMU was given with -semihosting-config arg=...; 0 on success. */
int semihost_cmdline(char *buf, int len);
#endif
