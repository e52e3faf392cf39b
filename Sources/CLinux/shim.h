#pragma once
// Linux calls Swift's Glibc overlay does not expose (openat2, signalfd, epoll
// details, crypt_r), as static inline wrappers. Nothing else lives here.
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/sendfile.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <signal.h>
#include <linux/openat2.h>
#include <crypt.h>

/// openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS: the kernel refuses any
/// resolution (`..`, absolute or escaping symlinks) that leaves `dirfd`.
/// Returns the fd or -1 with errno (EXDEV on escape, ENOSYS on old kernels).
static inline int companion_openat_beneath(int dirfd, const char *path, int flags) {
    struct open_how how = {0};
    how.flags = (unsigned long long)flags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static inline int companion_errno(void) { return errno; }

/// crypt_r(3) with its large state on the heap-free caller side; returns NULL on failure.
static inline const char *companion_crypt(const char *phrase, const char *setting, struct crypt_data *data) {
    return crypt_r(phrase, setting, data);
}

static inline int companion_epoll_event_size(void) { return (int)sizeof(struct epoll_event); }
