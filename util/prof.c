/* prof.c — the per-thread profile pointer of util/prof.h (NULL: off). */
#include "util/prof.h"

_Thread_local rql_prof *rql_prof_on = NULL;
