/* Shared declarations of the rql command's subcommands (experiments/cmd_*.c).
 * Each cmd_NAME(argc, argv) gets argv[0] == "NAME" and returns the exit status:
 * 0 success, 1 failure of the work, 2 bad usage or input. */
#ifndef RQL_CMD_H
#define RQL_CMD_H
#include <stdio.h>

#define RQL_VERSION "0.1.0"

/* Prints "usage: rql ..." for a command, from the table in rql.c. */
int rql_usage_of(const char *name, FILE *f);

#endif
