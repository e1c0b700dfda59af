/* rlog_schema — what the run log's writer and reader share, so they cannot
 * drift apart: the tables and their columns (one schema drives creation,
 * reopening, appending and validation), the error helper, and the few HDF5
 * attribute and dataset helpers both sides use. Internal to log/: the public
 * interface is rlog.h.
 *
 * Files: rlog_schema.c. Users: rlog_write.c, rlog_read.c.
 */
#ifndef RQL_RLOG_SCHEMA_H
#define RQL_RLOG_SCHEMA_H

#include <stdint.h>
#include <hdf5.h>

typedef enum { C_I64, C_I32, C_F32, C_F64, C_BOOL } ctype;
/* Width of a column after the row dimension: scalar, or a meta size. */
typedef enum { W_1, W_OBS, W_ACT, W_HID, W_CELL } cwidth;

typedef struct {
    const char *name;
    ctype type;
    cwidth width;
} col_schema;

enum { T_CURVES, T_TRAIN, T_EVAL, T_STEPS, T_WEIGHTS, NTABLES };
/* The columns of /steps. hidden and cell are optional: present when
 * hidden_size > 0, cell for an LSTM core only; their indices are fixed. */
enum { S_EPISODE, S_T, S_OBS, S_NEXT, S_ACT, S_REW, S_TERM, S_TRUNC, S_Q, S_HIDDEN, S_CELL, S_N };

extern const char *const rlog_table_names[NTABLES];
/* Columns of each table (NULL for /weights: one dataset per tensor of the
 * network, after at_episode) and their counts. */
extern const col_schema *const rlog_table_cols[NTABLES];
extern const int rlog_table_ncols[NTABLES];

/* Sets the thread's error message (rql_error()); returns -1. */
__attribute__((format(printf, 1, 2)))
int rlog_fail(const char *fmt, ...);

/* Every entry point silences HDF5's own error stack printing: our messages
 * name the file and dataset, HDF5's trace would only confuse a user. */
void rlog_quiet(void);

/* A variable-length UTF-8 string type, as h5py writes strings (H5Tclose it). */
hid_t rlog_vlen_str(void);
/* An integer attribute of obj: 0, or -1 if missing or unreadable. */
int rlog_h5_attr_i64(hid_t obj, const char *name, int64_t *v);
/* A variable- or fixed-length string attribute of obj, malloc'd; NULL if
 * missing or not a string. */
char *rlog_h5_attr_str(hid_t obj, const char *name);
/* Checks the root attributes format and format_version of an open file;
 * names path on failure. */
int rlog_check_format(hid_t f, const char *path);
/* Rows (first dimension) of an open dataset, -1 on failure. */
int64_t rlog_ds_rows(hid_t ds);

#endif
