#!/usr/bin/env bash
# SQLite's own instructions per access-log row: a C program inserts rows into a log file
# that companion created (so the same `log` table and partial index), with the writer's
# statement shape (32 rows per INSERT OR FAIL ... VALUES, parameters bound with
# sqlite3_bind_int64/null), its PRAGMAs and a commit every 2,048 rows, under callgrind.
# No strings, shapes or rollups: every row binds the same small ids. What it prints is
# what any writer of this schema pays SQLite per row before doing anything of its own.
# Usage: benchmarks/sqlite-floor.sh [rows]   (default 100000; needs cc, valgrind, libsqlite3-dev)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000}
swift build -c release --product companion 2>&1 | tail -n 1
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
server=""

cat > "$work/floor.c" <<'EOF'
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 32
#define COMMIT_ROWS 2048

static void check(sqlite3 *db, int rc, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: floor DB ROWS\n"); return 2; }
    long rows = atol(argv[2]);
    sqlite3 *db;
    check(db, sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL), "open");
    check(db, sqlite3_exec(db, "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-512", NULL, NULL, NULL), "pragma");

    /* The inserted columns: every column of `log` but id, in table order (as the writer's). */
    char names[32][32];
    int columns = 0;
    sqlite3_stmt *info;
    check(db, sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info('log') WHERE name <> 'id' ORDER BY cid", -1, &info, NULL), "table_info");
    while (sqlite3_step(info) == SQLITE_ROW && columns < 32)
        snprintf(names[columns++], sizeof names[0], "%s", (const char *)sqlite3_column_text(info, 0));
    sqlite3_finalize(info);

    static char sql[65536];
    int n = snprintf(sql, sizeof sql, "INSERT OR FAIL INTO log (");
    for (int c = 0; c < columns; c++) n += snprintf(sql + n, sizeof sql - n, "%s%s", c ? ", " : "", names[c]);
    n += snprintf(sql + n, sizeof sql - n, ") VALUES ");
    for (int r = 0; r < BATCH; r++) {
        n += snprintf(sql + n, sizeof sql - n, "%s(", r ? "," : "");
        for (int c = 0; c < columns; c++) n += snprintf(sql + n, sizeof sql - n, "%s?", c ? "," : "");
        n += snprintf(sql + n, sizeof sql - n, ")");
    }
    sqlite3_stmt *insert;
    check(db, sqlite3_prepare_v2(db, sql, -1, &insert, NULL), "prepare");

    /* Each column's value: t counts up a millisecond a row; the others repeat, so after the
       first statement only t is bound again (the writer skips binding a parameter to the
       value it already holds, and in this load every other value repeats). -1: NULL. */
    long long fixed[32];
    for (int c = 0; c < columns; c++) {
        const char *name = names[c];
        fixed[c] = !strcmp(name, "shape") ? 1 : !strcmp(name, "client") ? 2 : !strcmp(name, "path") ? 3
                 : !strcmp(name, "status") ? 200 : !strcmp(name, "bytes") ? 1024 : !strcmp(name, "duration_us") ? 15
                 : !strcmp(name, "user_agent") ? 4 : -1;
    }
    int tColumn = -1;
    for (int c = 0; c < columns; c++) if (!strcmp(names[c], "t")) tColumn = c;
    if (tColumn < 0) { fprintf(stderr, "log has no t column\n"); return 1; }
    long long t = 1796000000000LL;   /* Unix milliseconds */
    for (long done = 0; done + BATCH <= rows; done += BATCH) {
        if (done % COMMIT_ROWS == 0) check(db, sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), "begin");
        for (int r = 0; r < BATCH; r++) {
            int first = r * columns + 1;
            sqlite3_bind_int64(insert, first + tColumn, t++);
            if (done > 0) continue;
            for (int c = 0; c < columns; c++) {
                if (c == tColumn) continue;
                if (fixed[c] < 0) sqlite3_bind_null(insert, first + c);
                else sqlite3_bind_int64(insert, first + c, fixed[c]);
            }
        }
        check(db, sqlite3_step(insert), "insert");
        sqlite3_reset(insert);
        if ((done + BATCH) % COMMIT_ROWS == 0 || done + 2 * BATCH > rows)
            check(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
    }
    sqlite3_finalize(insert);
    sqlite3_close(db);
    return 0;
}
EOF
cc -O2 -o "$work/floor" "$work/floor.c" -lsqlite3

# An empty log file of the current schema, made by the server itself.
mkdir -p "$work/a"
printf '{"listen":"127.0.0.1:0","workers":1,"sites":[{"host":"a.test","root":"%s/a"}],"accessLog":{"sqlite":"%s/access.sqlite"}}\n' \
  "$work" "$work" > "$work/config.json"
.build/release/companion serve --config "$work/config.json" > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do grep -q ready "$work/server.log" 2>/dev/null && break; sleep 0.1; done
kill -INT "$server"; wait "$server" || true; server=""

measure() {   # measure ROWS: callgrind's total for a fresh copy of the empty file
  cp "$work/access.sqlite" "$work/run.sqlite"; rm -f "$work/run.sqlite-wal" "$work/run.sqlite-shm"
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.$1" "$work/floor" "$work/run.sqlite" "$1" 2>/dev/null
  callgrind_annotate "$work/cg.$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}
base=$(measure 0)
loaded=$(measure "$rows")
inserted=$(sqlite3 "$work/run.sqlite" "SELECT COUNT(*) FROM log")
echo "log columns inserted: $(sqlite3 "$work/run.sqlite" "SELECT group_concat(name, ', ') FROM pragma_table_info('log') WHERE name <> 'id'")"
echo "rows: $inserted  instructions: $((loaded - base))  per row: $(( (loaded - base) / inserted ))"
