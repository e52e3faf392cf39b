#pragma once
#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro cast Swift cannot import: tell SQLite to copy bound bytes.
static inline int companion_sqlite3_bind_text_transient(sqlite3_stmt *stmt, int index, const char *text, int length) {
    return sqlite3_bind_text(stmt, index, text, length, SQLITE_TRANSIENT);
}
static inline int companion_sqlite3_bind_blob_transient(sqlite3_stmt *stmt, int index, const void *bytes, int length) {
    return sqlite3_bind_blob(stmt, index, bytes, length, SQLITE_TRANSIENT);
}

/// Turns off SQLite's memory statistics, whose global mutex is taken on every
/// allocation (measured: ~10% of the access-log writer's time). Must run before the
/// library initialises; later calls return SQLITE_MISUSE and change nothing.
static inline int companion_sqlite3_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/// SQLITE_STATIC is a macro cast too: the caller keeps the bytes alive and unchanged
/// until the statement is stepped or the parameter rebound (the writer's row arena).
static inline int companion_sqlite3_bind_text_static(sqlite3_stmt *stmt, int index, const char *text, int length) {
    return sqlite3_bind_text(stmt, index, text, length, SQLITE_STATIC);
}

/// sqlite3_result_blob with SQLITE_TRANSIENT (the macro cast again): SQLite copies the bytes.
static inline void companion_sqlite3_result_blob_transient(sqlite3_context *context, const void *bytes, int length) {
    sqlite3_result_blob(context, bytes, length, SQLITE_TRANSIENT);
}
