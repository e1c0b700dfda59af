/* param — the one parameter-table facility: worlds, wrappers and agents (and
 * anything else configurable by name) describe their parameters as rows of a
 * param_desc table (name, type, default, range, help, choices), and keep
 * their values in a param_set parsed by the one parser here.
 *
 * A value reaches a set in one of two ways and is stored once, as a number
 * (ints, reals, bools as 0/1) and as its canonical text (the text that
 * resolved configs and logs show):
 *   param_set_text   text from a person (rql play KEY=VALUE, tests): parsed;
 *   param_set_value  a typed value from the config layer (libconfig already
 *                    parsed it): checked and stored, never turned into text
 *                    and parsed again.
 * Both check the type and the range (or the choices) the same way; a refused
 * value leaves the previous one. Errors go to the one error facility
 * (util.h): param_set_text's message names the owner, key and value
 * ("tmaze: length = 0 out of range [1, 1000]"); param_set_value's message is
 * the detail alone ("out of range [1, 1000]"), for a caller that names the
 * key and value itself (the config layer names file, line and key).
 *
 * `rql help config` and docs/config.md's parameter reference are generated
 * from the tables (param_print_table).
 */
#ifndef RQL_PARAM_H
#define RQL_PARAM_H
#include <stdio.h>

typedef enum { PARAM_INT, PARAM_REAL, PARAM_BOOL, PARAM_STR } param_type;

typedef struct {
    const char *name;
    param_type type;
    const char *def;        /* default, as text */
    double lo, hi;          /* inclusive range of INT and REAL */
    const char *help;       /* one line */
    const char *choices;    /* STR: "a|b|c", or NULL (any text; the owner checks it) */
} param_desc;

/* A typed value as the config layer read it (the source's type, which need
 * not be the parameter's: an int for a real parameter is fine). */
typedef struct {
    param_type type;
    long long i;            /* INT, and BOOL as 0/1 */
    double x;               /* REAL */
    const char *s;          /* STR */
} param_value;

typedef struct {
    int n;
    const param_desc **desc; /* [n] */
    double *num;             /* [n] INT, REAL, BOOL (0/1); 0 for STR */
    char **text;             /* [n] canonical text */
} param_set;

/* Appends the rows of a table with their defaults (0, or RQL_ENOMEM; a bad
 * default in a table is RQL_EINVAL naming it). */
int param_set_add(param_set *ps, const param_desc *rows, int n);
void param_set_free(param_set *ps);                /* frees the arrays; the struct stays */
int param_set_copy(param_set *dst, const param_set *src);
int param_index(const param_set *ps, const char *key);   /* -1 when absent */

int param_set_text(param_set *ps, int i, const char *owner, const char *text);
int param_set_value(param_set *ps, int i, const param_value *v);

const char *param_text(const param_set *ps, const char *key);     /* NULL when absent */
double param_num(const param_set *ps, const char *key);           /* 0 when absent */
/* Index of a STR value among the row's choices ("a|b|c": 0, 1, 2), -1 if
 * absent or not a choice parameter. */
int param_choice(const param_set *ps, const char *key);
/* The error for an unknown key: "unknown parameter 'KEY' for KIND 'OWNER'
 * (parameters: a, b, c)". Returns RQL_EINVAL. */
int param_unknown(const param_set *ps, const char *kind, const char *owner, const char *key);

/* The shortest text that reads back as the same double (0.98, not
 * 0.97999999999999998; 10, not 1e+01). */
void param_fmt_real(double x, char *buf, size_t n);
const char *param_type_name(param_type t);       /* "int", "real", "bool", "string" */
/* One line per row: "  PREFIXname  type  default D  help [lo, hi]" (markdown
 * = 1: a table row "| `PREFIXname` | type | D | help |"). */
void param_print_table(FILE *f, const param_desc *rows, int n, const char *prefix, int markdown);

#endif
