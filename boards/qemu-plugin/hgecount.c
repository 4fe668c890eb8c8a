/* hgecount: a QEMU TCG plugin that counts the guest instructions executed between the
 * firmware's bench markers (hge_bench_begin / hge_bench_end, see firmware/bench.h).
 *
 *   qemu-system-arm ... -plugin libhgecount.so,begin=0xADDR,begin_end=0xADDR,end=0xADDR,end_end=0xADDR,out=FILE
 *
 * Every executed instruction outside the two marker functions adds one to a counter (an
 * inline add: no callback per instruction). Entering hge_bench_begin notes the counter;
 * entering hge_bench_end writes the difference, less one for the call instruction, to FILE:
 * the instructions of the argument set-up, the call, the callee and the result move, the same
 * span firmware/bench.h measures with minstret on RISC-V. Exact, and as fast as plain
 * emulation, unlike an execution log.
 *
 * Debian's QEMU 7.2 is built with plugin support but ships no qemu-plugin.h, so the few
 * declarations used are written out below (plugin API version 1, QEMU 7.x). */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t total, start;
static uint64_t begin_lo, begin_hi, end_lo, end_hi;
static bool inside;
static FILE *out;

static void on_begin(unsigned int vcpu, void *u) { (void)vcpu; (void)u; start = total; inside = true; }
static void on_end(unsigned int vcpu, void *u) {
  (void)vcpu; (void)u;
  if (inside && out) fprintf(out, "%" PRIu64 "\n", total - start - 1);
  inside = false;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    uint64_t pc = qemu_plugin_insn_vaddr(insn);
    if (pc >= begin_lo && pc < begin_hi) qemu_plugin_register_vcpu_insn_exec_cb(insn, on_begin, QEMU_PLUGIN_CB_NO_REGS, NULL);
    else if (pc >= end_lo && pc < end_hi) { if (pc == end_lo) qemu_plugin_register_vcpu_insn_exec_cb(insn, on_end, QEMU_PLUGIN_CB_NO_REGS, NULL); }
    else qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &total, 1);
  }
}

static void on_exit_cb(qemu_plugin_id_t id, void *u) {
  (void)id; (void)u;
  if (out) { fprintf(out, "total %" PRIu64 "\n", total); fclose(out); out = NULL; }
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
  (void)info;
  const char *path = NULL;
  for (int i = 0; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (!eq) continue;
    uint64_t v = strtoull(eq + 1, NULL, 0);
    size_t k = (size_t)(eq - argv[i]);
    if (k == 5 && !strncmp(argv[i], "begin", k)) begin_lo = v;
    else if (k == 9 && !strncmp(argv[i], "begin_end", k)) begin_hi = v;
    else if (k == 3 && !strncmp(argv[i], "end", k)) end_lo = v;
    else if (k == 7 && !strncmp(argv[i], "end_end", k)) end_hi = v;
    else if (k == 3 && !strncmp(argv[i], "out", k)) path = eq + 1;
  }
  if (!path || !begin_hi || !end_hi) { fprintf(stderr, "hgecount: need begin, begin_end, end, end_end, out\n"); return -1; }
  out = fopen(path, "w");
  if (!out) { perror(path); return -1; }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
  return 0;
}
