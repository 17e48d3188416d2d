/*
 * insn_count: a qemu-user TCG plugin that counts executed guest instructions and reports the
 * running count at markers the guest sets (benchmarks/arm64_counts.py).
 *
 *   gcc -shared -fPIC -O2 -o insn_count.so tools/arm64/insn_count.c
 *   QEMU_PLUGIN=./insn_count.so,arg=out=/tmp/marks.txt qemu-aarch64 ...
 *
 * Counting: each translated block gets an execution callback that adds its instruction count to
 * the counter of the vCPU (guest thread) running it. Only that thread writes its counter, so the
 * count is exact with threads running in parallel, without a locked add per block.
 *
 * Markers: the guest calls lseek(-1, MARK_BASE + label, 0) (it fails with EBADF and does nothing
 * else); the syscall callback sees it before the kernel does and appends
 * "mark <pid> <label> <count>" to the output file, <count> being the instructions every thread
 * of the process has executed so far. At exit: "exit <pid> <count>". Child processes that
 * inherit QEMU_PLUGIN append to the same file (O_APPEND, one write per line).
 *
 * Debian's qemu-user ships no qemu-plugin.h, so the few API entries used here are declared below
 * (the plugin API is a stable C ABI; these are its version 1 signatures, as in qemu 7.2).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* ---- the qemu plugin API entries this plugin uses ---- */
typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct {
    const char *target_name;
    struct { int min, cur; } version;
    bool system_emulation;
    /* a union of system-emulation fields follows; unused here */
} qemu_info_t;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };
typedef void (*tb_trans_cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*vcpu_udata_cb)(unsigned int vcpu_index, void *userdata);
typedef void (*udata_cb)(qemu_plugin_id_t id, void *userdata);
typedef void (*syscall_cb)(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num,
                           uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5,
                           uint64_t a6, uint64_t a7, uint64_t a8);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, vcpu_udata_cb cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_syscall_cb(qemu_plugin_id_t id, syscall_cb cb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, udata_cb cb, void *userdata);

EXPORT int qemu_plugin_version = 1;

/* ---- the plugin ---- */
#define AARCH64_LSEEK 62
#define MARK_BASE 0x4641434500000000ull /* "FACE" << 32; the label is the low 32 bits */
#define MAX_VCPUS 4096 /* qemu-user numbers live threads from 0; a finished one's number is reused */

/* One cache line per vCPU, so threads counting in parallel do not share lines. */
static struct { uint64_t n; char pad[56]; } counts[MAX_VCPUS] __attribute__((aligned(64)));
static uint64_t overflow; /* threads numbered past MAX_VCPUS share this one, atomically */
static int out_fd = 2;

static uint64_t total(void)
{
    uint64_t sum = __atomic_load_n(&overflow, __ATOMIC_RELAXED);
    for (int i = 0; i < MAX_VCPUS; i++)
        sum += __atomic_load_n(&counts[i].n, __ATOMIC_RELAXED);
    return sum;
}

static void emit(const char *line, int length)
{
    if (write(out_fd, line, (size_t)length) != length)
        perror("insn_count: write");
}

static void on_exec(unsigned int vcpu, void *insns)
{
    uint64_t n = (uint64_t)(uintptr_t)insns;
    if (vcpu < MAX_VCPUS) /* only this thread writes it: a plain read-modify-write suffices */
        __atomic_store_n(&counts[vcpu].n, counts[vcpu].n + n, __ATOMIC_RELAXED);
    else
        __atomic_fetch_add(&overflow, n, __ATOMIC_RELAXED);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    void *insns = (void *)(uintptr_t)qemu_plugin_tb_n_insns(tb);
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_exec, QEMU_PLUGIN_CB_NO_REGS, insns);
}

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu, int64_t num, uint64_t a1,
                       uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6,
                       uint64_t a7, uint64_t a8)
{
    (void)id; (void)vcpu; (void)a3; (void)a4; (void)a5; (void)a6; (void)a7; (void)a8;
    /* fd -1 as a 32-bit int: the kernel (and qemu) ignore the register's upper half */
    if (num != AARCH64_LSEEK || (uint32_t)a1 != UINT32_MAX || (a2 >> 32) != (MARK_BASE >> 32))
        return;
    char line[96];
    int length = snprintf(line, sizeof line, "mark %d %" PRIu64 " %" PRIu64 "\n", (int)getpid(),
                          a2 & 0xffffffffu, total());
    emit(line, length);
}

static void at_exit(qemu_plugin_id_t id, void *userdata)
{
    (void)id; (void)userdata;
    char line[64];
    int length = snprintf(line, sizeof line, "exit %d %" PRIu64 "\n", (int)getpid(), total());
    emit(line, length);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                               char **argv)
{
    if (info->system_emulation || strcmp(info->target_name, "aarch64") != 0) {
        fprintf(stderr, "insn_count: needs qemu-aarch64 (user mode), got %s\n", info->target_name);
        return -1;
    }
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) {
            out_fd = open(argv[i] + 4, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (out_fd < 0) {
                perror(argv[i] + 4);
                return -1;
            }
        } else {
            fprintf(stderr, "insn_count: unknown argument %s (expected out=FILE)\n", argv[i]);
            return -1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
