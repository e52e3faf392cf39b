#pragma once
// libpq (Debian's libpq-dev) for the PostgreSQL access-log sink and `companion logs --db
// postgresql://`. The header gives the types and constants; the functions are looked up
// with dlopen the first time a PostgreSQL URL is used, not linked: linking libpq maps it
// and its dependencies (GnuTLS, Kerberos, LDAP, p11-kit: 2.6 MiB of resident pages here)
// into every companion process, including the ones that never talk to PostgreSQL.
#include <dlfcn.h>
#include <string.h>
#include <postgresql/libpq-fe.h> // Debian's path; no pkg-config: its flags would link libpq

/// The libpq functions companion calls, typed by libpq's own declarations.
typedef struct {
    __typeof__(&PQconnectdb) _Nonnull connectdb;
    __typeof__(&PQstatus) _Nonnull status;
    __typeof__(&PQfinish) _Nonnull finish;
    __typeof__(&PQerrorMessage) _Nonnull errorMessage;
    __typeof__(&PQresultErrorMessage) _Nonnull resultErrorMessage;
    __typeof__(&PQexec) _Nonnull exec;
    __typeof__(&PQexecParams) _Nonnull execParams;
    __typeof__(&PQclear) _Nonnull clear;
    __typeof__(&PQresultStatus) _Nonnull resultStatus;
    __typeof__(&PQntuples) _Nonnull ntuples;
    __typeof__(&PQnfields) _Nonnull nfields;
    __typeof__(&PQgetisnull) _Nonnull getisnull;
    __typeof__(&PQgetvalue) _Nonnull getvalue;
    __typeof__(&PQputCopyData) _Nonnull putCopyData;
    __typeof__(&PQputCopyEnd) _Nonnull putCopyEnd;
    __typeof__(&PQgetResult) _Nonnull getResult;
} companion_libpq;

/// Opens `library` (e.g. "libpq.so.5") and returns its functions, with `*error` NULL; or sets
/// `*error` to dlerror()'s message (no such library, or a symbol missing from a libpq too
/// old), and then the fields must not be used (they may be null despite the annotation).
static inline companion_libpq companion_libpq_load(const char *library, const char **error) {
    companion_libpq pq;
    memset(&pq, 0, sizeof pq);
    *error = NULL;
    void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) { *error = dlerror(); return pq; }
#define COMPANION_PQ(field, name) \
    if ((pq.field = (__typeof__(pq.field))dlsym(handle, #name)) == NULL) { *error = dlerror(); return pq; }
    COMPANION_PQ(connectdb, PQconnectdb)
    COMPANION_PQ(status, PQstatus)
    COMPANION_PQ(finish, PQfinish)
    COMPANION_PQ(errorMessage, PQerrorMessage)
    COMPANION_PQ(resultErrorMessage, PQresultErrorMessage)
    COMPANION_PQ(exec, PQexec)
    COMPANION_PQ(execParams, PQexecParams)
    COMPANION_PQ(clear, PQclear)
    COMPANION_PQ(resultStatus, PQresultStatus)
    COMPANION_PQ(ntuples, PQntuples)
    COMPANION_PQ(nfields, PQnfields)
    COMPANION_PQ(getisnull, PQgetisnull)
    COMPANION_PQ(getvalue, PQgetvalue)
    COMPANION_PQ(putCopyData, PQputCopyData)
    COMPANION_PQ(putCopyEnd, PQputCopyEnd)
    COMPANION_PQ(getResult, PQgetResult)
#undef COMPANION_PQ
    return pq;
}
