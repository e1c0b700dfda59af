/* ckpt — checkpoint files: everything a run needs to resume exactly.
 *
 * A checkpoint is a small HDF5 file beside the run's log. It is written to
 * PATH.tmp, flushed and fsync'd, then renamed over PATH (and the folder
 * fsync'd), so a crash or a kill during the write never replaces a good
 * checkpoint with a torn one: the reader sees the old file or the new one.
 *
 *   ckpt_writer w;
 *   if (ckpt_begin(&w, path, err, cap) == 0) {
 *       ... write groups and datasets under w.file ...
 *       ckpt_commit(&w, err, cap);       (or ckpt_abort(&w) on failure)
 *   }
 *
 * The helpers store flat byte blobs (env states), named int64 / double
 * scalars and strings as attributes, so what a checkpoint holds can be read
 * with h5dump. Functions return 0 or -1 with a message naming the file.
 * Every checkpoint carries a digest of all its bytes, verified before use
 * (ckpt_verify below).
 *
 * An agent goes in a group of its own: ckpt_put_agent writes the agent's
 * state table (agents/agent.h: agent_state_table), one 1-D dataset per
 * buffer named as its entry, and each network as a subgroup through nets'
 * weight I/O (nets/net_h5.h); ckpt_get_agent reads it back stage by stage.
 * These two return 0 or a negative RQL_E* code with the message in
 * rql_error().
 * Every checkpoint carries a digest of all its bytes, verified before use
 * (ckpt_verify below).
 *
 * Files: ckpt.c. Depends on agents/ (the state table) and nets/ (net_h5).
 */
#ifndef RQL_CKPT_H
#define RQL_CKPT_H

#include <stddef.h>
#include <stdint.h>
#include <hdf5.h>
#include "agents/agent.h"

#define CKPT_FORMAT "rql-checkpoint"
#define CKPT_VERSION 1

typedef struct {
    hid_t file;
    char path[1024];
    char tmp[1040];
} ckpt_writer;

int ckpt_begin(ckpt_writer *w, const char *path, char *err, size_t cap);
int ckpt_commit(ckpt_writer *w, char *err, size_t cap);
void ckpt_abort(ckpt_writer *w);

/* Opens a checkpoint read-only after ckpt_verify, and checks its format
 * attribute; returns the file id or a negative value with the reason in err
 * (a damaged file: "PATH: damaged checkpoint: ..."). */
hid_t ckpt_open(const char *path, char *err, size_t cap);

/* Integrity. ckpt_commit writes, into the file's first CKPT_USERBLOCK bytes
 * (an HDF5 user block, which HDF5 readers skip), one text line
 *   rql-checkpoint-digest xxh64 <16 hex digits> bytes <N>
 * the XXH64 digest of the N bytes after the user block: the whole HDF5 file,
 * every dataset, attribute and piece of metadata, whoever wrote it. Returns 0
 * when the file matches its digest, 1 for a checkpoint of an older rql with
 * no user block (nothing to verify), -1 with the reason in err otherwise. */
#define CKPT_USERBLOCK 512
int ckpt_verify(const char *path, char *err, size_t cap);
uint64_t ckpt_xxh64(const void *data, size_t len);     /* XXH64, seed 0 */

/* Blobs: a 1-D uint8 dataset. read checks that the size matches n. */
int ckpt_put_bytes(hid_t loc, const char *name, const void *buf, size_t n);
int ckpt_get_bytes(hid_t loc, const char *name, void *buf, size_t n);
/* Scalar attributes on an object. */
int ckpt_put_i64(hid_t obj, const char *name, int64_t v);
int ckpt_get_i64(hid_t obj, const char *name, int64_t *v);
int ckpt_put_f64(hid_t obj, const char *name, double v);
int ckpt_get_f64(hid_t obj, const char *name, double *v);
int ckpt_put_str(hid_t obj, const char *name, const char *s);
char *ckpt_get_str(hid_t obj, const char *name);     /* malloc'd, NULL if absent */

/* An agent and its training actor (NULL: none) in group g. Reading refuses
 * a missing dataset or one of another size, naming it, and a state of a
 * differently built agent (AGENT_EINVAL naming what differs). */
int ckpt_put_agent(hid_t g, agent *a, agent_actor *train_actor);
int ckpt_get_agent(hid_t g, agent *a, agent_actor *train_actor);

#endif
