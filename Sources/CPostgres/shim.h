#pragma once
// libpq (Debian's libpq-dev) for the PostgreSQL access-log sink and `companion logs --db
// postgresql://`. Nothing here needs a macro wrapper: the API is plain functions.
#include <libpq-fe.h>
