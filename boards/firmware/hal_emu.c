/* The HAL of the emulated boards (QEMU), over semihosting.
 *  ADC: little-endian f32 readings from a host file, named by the second word of the
 *       semihosting command line (QEMU: -semihosting-config enable=on,arg=fw,arg=FILE),
 *       "adc.bin" by default.
 *  DAC: one text line per sample on the semihosting console: the sample's event flags then
 *       each voltage, all as 8 hex digits (IEEE-754 bits), so a host can compare bit for bit.
 *  Telemetry: "T" and the record's words in hex, one line a record (link builds send it to
 *       the host over the UART instead: link.c).
 *  Checkpoint: written to the host file "checkpoint.bin" (the emulated boards' flash).
 *  Exit: QEMU exits with the program's code (SYS_EXIT_EXTENDED).
 * The UART (hal_uart_*) and the clock (hal_time_us) come from the board's driver file. */
#include <string.h>

#include "hal.h"
#include "semihost.h"
#include "board_config.h"

static int adc_file = -1, console = -1;
static char outbuf[4096];
static int outlen;
static uint32_t pending_flags[HGE_BLOCK_SAMPLES];
static int pending;

static void flush(void) {
  if (outlen && console >= 0) semihost_write(console, outbuf, outlen);
  outlen = 0;
}
static void put(const char *s, int n) {
  if (outlen + n > (int)sizeof outbuf) flush();
  memcpy(outbuf + outlen, s, n);
  outlen += n;
}
static void put_str(const char *s) { put(s, (int)strlen(s)); }
static void put_hex(uint32_t v, char sep) {
  char b[9];
  for (int i = 7; i >= 0; i--) { b[i] = "0123456789abcdef"[v & 15]; v >>= 4; }
  b[8] = sep;
  put(b, 9);
}
void emu_put_hex(uint32_t v, char sep) { put_hex(v, sep); }
void emu_put_str(const char *s) { put_str(s); }

void board_init(void); /* board driver: UART, timer */

void hal_init(void) {
  char cmd[256] = { 0 };
  const char *path = "adc.bin";
  board_init();
  console = semihost_open(":tt", SH_MODE_W);
  if (semihost_cmdline(cmd, sizeof cmd - 1) == 0) {
    char *sp = strchr(cmd, ' ');
    if (sp && sp[1]) {
      path = sp + 1;
      char *end = strchr(sp + 1, ' ');
      if (end) *end = 0;
    }
  }
  adc_file = semihost_open(path, SH_MODE_RB);
}

#ifndef HGE_STANDALONE /* standalone builds play a device instead (hal_emu_device.c) */
int hal_adc_read_block(float *volts, int max) {
  if (adc_file < 0) return 0;
  return semihost_read(adc_file, volts, max * (int)sizeof(float)) / (int)sizeof(float);
}

int hal_adc_read(float *volts) { return hal_adc_read_block(volts, 1) == 1 ? 0 : -1; }

void hal_sample_done(uint32_t sample, uint32_t flags) {
  (void)sample;
  if (pending < HGE_BLOCK_SAMPLES) pending_flags[pending++] = flags;
}

void hal_dac_write_block(const float *volts, int channels, int samples) {
  for (int i = 0; i < samples; i++) {
    put_hex(i < pending ? pending_flags[i] : 0, channels ? ' ' : '\n');
    for (int c = 0; c < channels; c++) {
      uint32_t bits;
      memcpy(&bits, &volts[i * channels + c], 4);
      put_hex(bits, c + 1 < channels ? ' ' : '\n');
    }
  }
  pending = 0;
}

void hal_dac_write(const float *volts, int count) { hal_dac_write_block(volts, count, 1); }
#endif

#if !defined(HGE_LINK) && !defined(HGE_STANDALONE)
void hal_telemetry(const hal_words *parts, int n) {
  int left = 0;
  for (int p = 0; p < n; p++) left += parts[p].count;
  put_str(left ? "T " : "T\n");
  for (int p = 0; p < n; p++) {
    for (int i = 0; i < parts[p].count; i++) {
      uint32_t word;
      memcpy(&word, (const uint8_t *)parts[p].words + 4 * i, 4);
      put_hex(word, --left ? ' ' : '\n');
    }
  }
}
#endif

/* Written whole to another file, then renamed over the kept one: a reset in the middle of a
 * store leaves the last whole checkpoint (a file opened "wb" is empty until it is written,
 * and a reset there lost everything learned). On hardware: two flash sectors, alternated. */
void hal_checkpoint_store(const void *blob, int bytes) {
  int file = semihost_open("checkpoint.new", SH_MODE_WB);
  if (file < 0) return;
  int written = semihost_write(file, blob, bytes);
  semihost_close(file);
  if (written == bytes) semihost_rename("checkpoint.new", "checkpoint.bin");
}

/* The emulated board's flash: a host file, which survives a system reset and a power cycle. */
int hal_checkpoint_load(void *blob, int max) {
  int file = semihost_open("checkpoint.bin", SH_MODE_RB);
  if (file < 0) return 0;
  int n = semihost_read(file, blob, max);
  semihost_close(file);
  return n > 0 ? n : 0;
}

void hal_log(const char *msg) {
  put_str("# ");
  put_str(msg);
  put_str("\n");
#ifdef HGE_STANDALONE
  flush(); /* progress lines appear as they happen */
#endif
}

#ifdef HGE_STACK_REPORT
/* The stack's high-water mark, from the startup file's painted stack (Cortex-M; elsewhere absent). */
uint32_t hge_stack_used(void) __attribute__((weak));
#endif

void hal_exit(int code) {
#ifdef HGE_STACK_REPORT
  if (hge_stack_used) { put_str("STACK "); put_hex(hge_stack_used(), '\n'); }
#endif
  flush();
#ifdef HGE_STANDALONE
  /* QEMU closes the UART's pseudo-terminal when it exits, and the kernel drops what the host
   * has not read yet: linger 200 ms so a watching host gets the last frames (STOPPED). */
  uint32_t t0 = hal_time_us();
  while (hal_time_us() - t0 < 200000u) {}
#endif
  semihost_exit(code);
}

void hal_trap(int code, const char *msg) {
  static const float park[] = HGE_PARK_VOLTS;
  pending = 0; /* the samples of the unfinished block are not output */
  hal_dac_write(park, (int)(sizeof park / sizeof park[0]));
  put_str("TRAP ");
  put_hex((uint32_t)code, ' ');
  put_str(msg);
  put_str("\n");
  hal_exit(64 + code);
}
