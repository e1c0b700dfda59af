/* param.c — parameter tables and their one parser (see param.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "util/param.h"
#include "util/util.h"

static const char *const type_names[] = {"int", "real", "bool", "string"};
const char *param_type_name(param_type t) { return t <= PARAM_STR ? type_names[t] : "?"; }

void param_fmt_real(double x, char *buf, size_t n) {
    if (x == floor(x) && fabs(x) < 1e15) {
        snprintf(buf, n, "%.0f", x);
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, x);
        if (strtod(buf, NULL) == x) return;
    }
}

static int choice_index(const char *choices, const char *v) {
    size_t n = strlen(v);
    int k = 0;
    for (const char *p = choices; p && *p; k++) {
        const char *e = strchr(p, '|');
        size_t m = e ? (size_t)(e - p) : strlen(p);
        if (m == n && !strncmp(p, v, n)) return k;
        p = e ? e + 1 : NULL;
    }
    return -1;
}

enum { BAD_NONE, BAD_SYNTAX, BAD_RANGE };

/* Checks a number against the row (INT: integral; both: the range). */
static int check_num(const param_desc *d, double x) {
    if (d->type == PARAM_INT && (x != floor(x) || fabs(x) > 9007199254740992.0)) return BAD_SYNTAX;
    if (!(x >= d->lo && x <= d->hi)) return BAD_RANGE;
    return BAD_NONE;
}

/* The one text parser: *num and the canonical text (malloc'd) of a valid
 * value; BAD_SYNTAX or BAD_RANGE otherwise. */
static int parse_text(const param_desc *d, const char *v, double *num, char **canon) {
    char *end, buf[64];
    *num = 0;
    *canon = NULL;
    switch (d->type) {
    case PARAM_INT:
    case PARAM_REAL: {
        errno = 0;
        double x = strtod(v, &end);
        if (end == v || *end || errno == ERANGE || !isfinite(x)) return BAD_SYNTAX;
        int bad = check_num(d, x);
        if (bad) return bad;
        *num = x;
        if (d->type == PARAM_INT) snprintf(buf, sizeof buf, "%.0f", x);
        *canon = strdup(d->type == PARAM_INT ? buf : v);
        return BAD_NONE;
    }
    case PARAM_BOOL:
        if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes")) *num = 1;
        else if (strcmp(v, "0") && strcasecmp(v, "false") && strcasecmp(v, "no")) return BAD_SYNTAX;
        *canon = strdup(*num ? "1" : "0");
        return BAD_NONE;
    default:
        if (d->choices && choice_index(d->choices, v) < 0) return BAD_SYNTAX;
        *canon = strdup(v);
        return BAD_NONE;
    }
}

static int store(param_set *ps, int i, double num, char *canon) {
    if (!canon) return rql_set_error(RQL_ENOMEM, "out of memory");
    free(ps->text[i]);
    ps->text[i] = canon;
    ps->num[i] = num;
    return 0;
}

int param_set_add(param_set *ps, const param_desc *rows, int n) {
    int m = ps->n + n;
    const param_desc **desc = realloc(ps->desc, sizeof *desc * (size_t)(m ? m : 1));
    if (desc) ps->desc = desc;
    double *num = realloc(ps->num, sizeof *num * (size_t)(m ? m : 1));
    if (num) ps->num = num;
    char **text = realloc(ps->text, sizeof *text * (size_t)(m ? m : 1));
    if (text) ps->text = text;
    if (!desc || !num || !text) return rql_set_error(RQL_ENOMEM, "out of memory");
    for (int k = 0; k < n; k++) {
        int i = ps->n;
        ps->desc[i] = &rows[k];
        ps->text[i] = NULL;
        ps->n++;
        char *canon;
        if (parse_text(&rows[k], rows[k].def, &ps->num[i], &canon))
            return rql_set_error(RQL_EINVAL, "internal error: default %s = '%s' is not valid", rows[k].name,
                                 rows[k].def);
        if (store(ps, i, ps->num[i], canon)) return RQL_ENOMEM;
    }
    return 0;
}

void param_set_free(param_set *ps) {
    if (!ps) return;
    for (int i = 0; i < ps->n; i++) free(ps->text[i]);
    free(ps->text);
    free(ps->num);
    free(ps->desc);
    *ps = (param_set){0};
}

int param_set_copy(param_set *dst, const param_set *src) {
    *dst = (param_set){0};
    size_t m = (size_t)(src->n ? src->n : 1);
    dst->desc = malloc(sizeof *dst->desc * m);
    dst->num = malloc(sizeof *dst->num * m);
    dst->text = calloc(m, sizeof *dst->text);
    if (!dst->desc || !dst->num || !dst->text) {
        param_set_free(dst);
        return rql_set_error(RQL_ENOMEM, "out of memory");
    }
    dst->n = src->n;
    for (int i = 0; i < src->n; i++) {
        dst->desc[i] = src->desc[i];
        dst->num[i] = src->num[i];
        if (!(dst->text[i] = strdup(src->text[i]))) {
            param_set_free(dst);
            return rql_set_error(RQL_ENOMEM, "out of memory");
        }
    }
    return 0;
}

int param_index(const param_set *ps, const char *key) {
    for (int i = 0; ps && key && i < ps->n; i++)
        if (!strcmp(ps->desc[i]->name, key)) return i;
    return -1;
}

int param_set_text(param_set *ps, int i, const char *owner, const char *text) {
    const param_desc *d = ps->desc[i];
    double num;
    char *canon;
    switch (parse_text(d, text, &num, &canon)) {
    case BAD_RANGE:
        return rql_set_error(RQL_EINVAL, "%s: %s = %s out of range [%.15g, %.15g]", owner, d->name, text, d->lo,
                             d->hi);
    case BAD_SYNTAX:
        if (d->type == PARAM_STR)
            return rql_set_error(RQL_EINVAL, "%s: %s = '%s' is not one of %s", owner, d->name, text, d->choices);
        return rql_set_error(RQL_EINVAL, "%s: %s = '%s' is not %s", owner, d->name, text,
                             d->type == PARAM_INT    ? "an integer"
                             : d->type == PARAM_REAL ? "a finite number"
                                                     : "a boolean (true or false)");
    }
    return store(ps, i, num, canon);
}

int param_set_value(param_set *ps, int i, const param_value *v) {
    const param_desc *d = ps->desc[i];
    static const char *const want[] = {"an integer", "a number", "a boolean", "a string"};
    static const char *const got[] = {"an integer", "a real", "a boolean", "a string"};
    double x = v->type == PARAM_REAL ? v->x : (double)v->i;
    char buf[64];
    int ok;
    switch (d->type) {
    case PARAM_INT: ok = v->type == PARAM_INT || (v->type == PARAM_REAL && x == floor(x)); break;
    case PARAM_REAL: ok = v->type == PARAM_INT || v->type == PARAM_REAL; break;
    case PARAM_BOOL: ok = v->type == PARAM_BOOL || (v->type == PARAM_INT && (v->i == 0 || v->i == 1)); break;
    default: ok = v->type == PARAM_STR; break;
    }
    if (!ok) return rql_set_error(RQL_EINVAL, "expected %s, got %s", want[d->type], got[v->type]);
    if (d->type == PARAM_STR) {
        if (d->choices && choice_index(d->choices, v->s) < 0)
            return rql_set_error(RQL_EINVAL, "not one of %s", d->choices);
        return store(ps, i, 0, strdup(v->s));
    }
    if (d->type == PARAM_BOOL) return store(ps, i, x != 0, strdup(x != 0 ? "1" : "0"));
    int bad = check_num(d, x);
    if (bad == BAD_RANGE) return rql_set_error(RQL_EINVAL, "out of range [%.15g, %.15g]", d->lo, d->hi);
    if (bad) return rql_set_error(RQL_EINVAL, "expected %s, got %s", want[d->type], got[v->type]);
    if (d->type == PARAM_INT) snprintf(buf, sizeof buf, "%.0f", x);
    else param_fmt_real(x, buf, sizeof buf);
    return store(ps, i, x, strdup(buf));
}

const char *param_text(const param_set *ps, const char *key) {
    int i = param_index(ps, key);
    return i < 0 ? NULL : ps->text[i];
}

double param_num(const param_set *ps, const char *key) {
    int i = param_index(ps, key);
    return i < 0 ? 0 : ps->num[i];
}

int param_choice(const param_set *ps, const char *key) {
    int i = param_index(ps, key);
    return i < 0 || !ps->desc[i]->choices ? -1 : choice_index(ps->desc[i]->choices, ps->text[i]);
}

int param_unknown(const param_set *ps, const char *kind, const char *owner, const char *key) {
    size_t cap = 64, at = 0;
    for (int j = 0; j < ps->n; j++) cap += strlen(ps->desc[j]->name) + 2;
    char *known = malloc(cap);
    if (!known) return rql_set_error(RQL_ENOMEM, "out of memory");
    known[0] = 0;
    for (int j = 0; j < ps->n; j++)
        at += (size_t)snprintf(known + at, cap - at, "%s%s", j ? ", " : "", ps->desc[j]->name);
    rql_set_error(RQL_EINVAL, "unknown parameter '%s' for %s '%s' (parameters: %s)", key, kind, owner, known);
    free(known);
    return RQL_EINVAL;
}

void param_print_table(FILE *f, const param_desc *rows, int n, const char *prefix, int markdown) {
    for (int i = 0; i < n; i++) {
        const param_desc *d = &rows[i];
        char range[96] = "";
        if (d->type == PARAM_INT || d->type == PARAM_REAL) snprintf(range, sizeof range, " [%g, %g]", d->lo, d->hi);
        char name[96];
        snprintf(name, sizeof name, "%s%s", prefix, d->name);
        if (markdown)
            fprintf(f, "| `%s` | %s | `%s` | %s%s |\n", name, param_type_name(d->type), d->def, d->help, range);
        else
            fprintf(f, "    %-20s %-6s default %-9s %s%s\n", name, param_type_name(d->type), d->def, d->help, range);
    }
}
