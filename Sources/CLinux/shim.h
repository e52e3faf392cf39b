#pragma once
// Linux calls that Swift's Glibc overlay does not expose (openat2, crypt_r), as
// static inline wrappers. Only headers Glibc's module does not already cover are
// included, without feature macros, so no type is defined twice differently.
#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <linux/openat2.h>
#include <crypt.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <malloc.h>
#include <sys/inotify.h>

/// accept4(2) is declared by <sys/socket.h> only under _GNU_SOURCE, which would make
/// this module's types differ from Glibc's; declare the prototype by hand instead.
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

static inline int companion_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
    return accept4(fd, address, length, flags);
}

/// openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS: the kernel refuses any
/// resolution (`..`, absolute or escaping symlinks) that leaves `dirfd`.
/// Returns the fd or -1 with errno (EXDEV on escape, ENOSYS on old kernels).
static inline int companion_openat_beneath(int dirfd, const char *path, int flags) {
    struct open_how how = {0};
    how.flags = (unsigned long long)flags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/// O_PATH is defined by <fcntl.h> only under _GNU_SOURCE (its value is fixed in the Linux ABI).
#define COMPANION_O_PATH 010000000

/// CPUs this process may run on (sched_getaffinity), so `workers: 0` under
/// `taskset -c 0` starts one loop, not one per online CPU (as Go's GOMAXPROCS does).
static inline int companion_available_cpus(void) {
    unsigned long mask[16] = {0};
    long bytes = syscall(SYS_sched_getaffinity, 0, sizeof(mask), mask);
    if (bytes <= 0) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        return online > 0 ? (int)online : 1;
    }
    int count = 0;
    for (long i = 0; i < bytes / (long)sizeof(unsigned long); i++) count += __builtin_popcountl(mask[i]);
    return count > 0 ? count : 1;
}

static inline int companion_errno(void) { return errno; }

/// crypt_r(3); returns NULL on failure.
static inline const char *companion_crypt(const char *phrase, const char *setting, struct crypt_data *data) {
    return crypt_r(phrase, setting, data);
}

/// struct sched_attr (sched_setattr(2)), declared here: <linux/sched/types.h> is not in
/// every libc's headers.
struct companion_sched_attr {
    uint32_t size;
    uint32_t policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime;
    uint64_t deadline;
    uint64_t period;
    uint32_t util_min;
    uint32_t util_max;
};

/// Sets the calling thread's time slice to `nanoseconds` when it is in the normal (fair)
/// class, keeping its nice value. Linux 6.12+ reads sched_runtime as the EEVDF slice of a
/// SCHED_OTHER thread (0.1-100 ms; no privilege needed); older kernels ignore it.
/// Returns 0 when set, 1 when the thread is in another class (left alone), -1 with errno.
static inline int companion_set_own_fair_slice(uint64_t nanoseconds) {
    struct companion_sched_attr attr = {0};
    if (syscall(SYS_sched_getattr, 0, &attr, (unsigned int)sizeof attr, 0) != 0) return -1;
    if (attr.policy != 0 /* SCHED_OTHER */) return 1;
    attr.size = (uint32_t)sizeof attr;
    attr.flags &= 0x01;   /* keep SCHED_FLAG_RESET_ON_FORK only; no utilisation clamps */
    attr.runtime = nanoseconds;
    return syscall(SYS_sched_setattr, 0, &attr, 0) == 0 ? 0 : -1;
}

// Names the calling thread (shown by `top -H`, /proc/PID/task/TID/comm); at most 15 bytes.
static inline void companion_name_thread(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}


#include <link.h>

/// For `companion_each_readonly_segment`: the visitor and its context.
struct companion_segment_visit {
    void (*visit)(uintptr_t start, uintptr_t end, void *context);
    void *context;
};

/// The leading fields of `struct dl_phdr_info`, which <link.h> defines only under
/// _GNU_SOURCE (see accept4 above); their layout is part of the ABI since glibc 2.2.4.
struct companion_phdr_info {
    ElfW(Addr) dlpi_addr;
    const char *dlpi_name;
    const ElfW(Phdr) *dlpi_phdr;
    ElfW(Half) dlpi_phnum;
};

struct dl_phdr_info;
extern int dl_iterate_phdr(int (*callback)(struct dl_phdr_info *info, size_t size, void *data), void *data);

static int companion_segment_callback(struct dl_phdr_info *opaque, size_t size, void *data) {
    struct companion_segment_visit *visit = (struct companion_segment_visit *)data;
    if (size < sizeof(struct companion_phdr_info)) return 0;
    const struct companion_phdr_info *info = (const struct companion_phdr_info *)opaque;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        if (header->p_type != PT_LOAD || (header->p_flags & PF_W) != 0) continue;
        uintptr_t start = (uintptr_t)info->dlpi_addr + (uintptr_t)header->p_vaddr;
        visit->visit(start, start + (uintptr_t)header->p_memsz, visit->context);
    }
    return 0;
}

/// Calls `visit` with [start, end) of every loadable segment without write permission of
/// every ELF object loaded (the program, its libraries, dlopen'ed ones). It runs inside
/// dl_iterate_phdr(3), which holds the dynamic loader's lock: no object can be unloaded,
/// and its addresses reused, while `visit` runs.
static inline void companion_each_readonly_segment(void (*visit)(uintptr_t start, uintptr_t end, void *context),
                                                   void *context) {
    struct companion_segment_visit data = { visit, context };
    dl_iterate_phdr(companion_segment_callback, &data);
}
