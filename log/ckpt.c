/* ckpt — atomic checkpoint files, and an agent's state in them (see ckpt.h). */
#define _GNU_SOURCE
#include "log/ckpt.h"
#include "nets/net_h5.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/rlog.h"
#include "util/util.h"

/* ---- the digest ---------------------------------------------------------------- *
 *
 * XXH64 (Yann Collet's xxHash, 64-bit, seed 0), over every byte of the file
 * after the user block. It is written into the user block once HDF5 has
 * closed the file, so it covers everything HDF5 wrote: data, attributes and
 * metadata of every group and dataset, whoever wrote them. */

#define P1 11400714785074694791ULL
#define P2 14029467366897019727ULL
#define P3 1609587929392839161ULL
#define P4 9650029242287828579ULL
#define P5 2870177450012600261ULL

static uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }   /* little-endian host */
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t xround(uint64_t acc, uint64_t in) { return rotl64(acc + in * P2, 31) * P1; }
static uint64_t xmerge(uint64_t acc, uint64_t v) { return (acc ^ xround(0, v)) * P1 + P4; }

uint64_t ckpt_xxh64(const void *data, size_t len) {
    const uint8_t *p = data, *end = p + len;
    uint64_t h;
    if (len >= 32) {
        uint64_t v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1;
        for (; p + 32 <= end; p += 32) {
            v1 = xround(v1, rd64(p));
            v2 = xround(v2, rd64(p + 8));
            v3 = xround(v3, rd64(p + 16));
            v4 = xround(v4, rd64(p + 24));
        }
        h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
        h = xmerge(xmerge(xmerge(xmerge(h, v1), v2), v3), v4);
    } else h = P5;
    h += (uint64_t)len;
    for (; p + 8 <= end; p += 8) h = rotl64(h ^ xround(0, rd64(p)), 27) * P1 + P4;
    if (p + 4 <= end) { h = rotl64(h ^ (uint64_t)rd32(p) * P1, 23) * P2 + P3; p += 4; }
    for (; p < end; p++) h = rotl64(h ^ *p * P5, 11) * P1;
    h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32;
    return h;
}

/* The user block: one text line, then zeros to CKPT_USERBLOCK bytes. */
#define DIGEST_TAG "rql-checkpoint-digest xxh64"

/* Digest of fd's bytes [CKPT_USERBLOCK, EOF), and that length. */
static int digest_fd(int fd, uint64_t *h, uint64_t *n) {
    struct stat st;
    if (fstat(fd, &st) || st.st_size < CKPT_USERBLOCK) return -1;
    size_t len = (size_t)st.st_size;
    uint8_t *m = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    if (m == MAP_FAILED) return -1;
    *n = (uint64_t)(len - CKPT_USERBLOCK);
    *h = ckpt_xxh64(m + CKPT_USERBLOCK, len - CKPT_USERBLOCK);
    munmap(m, len);
    return 0;
}

/* The digest line for an image's bytes after the user block, zero-padded. */
static void digest_header(char ub[CKPT_USERBLOCK], const uint8_t *img, size_t len) {
    uint64_t n = (uint64_t)len, h = ckpt_xxh64(img, len);
    memset(ub, 0, CKPT_USERBLOCK);
    snprintf(ub, CKPT_USERBLOCK, DIGEST_TAG " %016llx bytes %llu\n", (unsigned long long)h, (unsigned long long)n);
}

int ckpt_verify(const char *path, char *err, size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return rql_failf(err, cap, "%s: %s", path, strerror(errno));
    char ub[CKPT_USERBLOCK + 1] = {0};
    ssize_t got = pread(fd, ub, CKPT_USERBLOCK, 0);
    int rc = 0;
    if (got >= 8 && !memcmp(ub, "\211HDF\r\n\032\n", 8)) {
        rc = 1;                    /* no user block: written before checksums (legacy) */
    } else if (got != CKPT_USERBLOCK || strncmp(ub, DIGEST_TAG " ", sizeof DIGEST_TAG)) {
        char sig[8];
        if (pread(fd, sig, 8, CKPT_USERBLOCK) == 8 && !memcmp(sig, "\211HDF\r\n\032\n", 8))
            rc = rql_failf(err, cap, "%s: damaged checkpoint: its checksum header is unreadable", path);
        else rc = rql_failf(err, cap, "%s: not an HDF5 file", path);
    } else {
        unsigned long long want_h = 0, want_n = 0;
        uint64_t h, n;
        const char *nl = memchr(ub, '\n', CKPT_USERBLOCK);
        int pad_ok = nl != NULL;         /* the rest of the block is zeros */
        for (const char *q = nl ? nl + 1 : ub; pad_ok && q < ub + CKPT_USERBLOCK; q++) pad_ok = *q == 0;
        if (!pad_ok || sscanf(ub + sizeof DIGEST_TAG, "%16llx bytes %llu", &want_h, &want_n) != 2)
            rc = rql_failf(err, cap, "%s: damaged checksum header", path);
        else if (digest_fd(fd, &h, &n))
            rc = rql_failf(err, cap, "%s: cannot read it (%s)", path, strerror(errno));
        else if (n != want_n)
            rc = rql_failf(err, cap, "%s: damaged checkpoint: %llu bytes after its header, %llu written (truncated "
                           "or extended)", path, (unsigned long long)n, want_n);
        else if (h != want_h)
            rc = rql_failf(err, cap, "%s: damaged checkpoint: checksum %016llx, %016llx written", path,
                           (unsigned long long)h, want_h);
    }
    close(fd);
    return rc;
}

/* ---- writing ------------------------------------------------------------------ */

int ckpt_begin(ckpt_writer *w, const char *path, char *err, size_t cap) {
    w->file = H5I_INVALID_HID;
    if (snprintf(w->path, sizeof w->path, "%s", path) >= (int)sizeof w->path ||
        snprintf(w->tmp, sizeof w->tmp, "%s.tmp", path) >= (int)sizeof w->tmp) {
        snprintf(err, cap, "%s: checkpoint path too long", path);
        return -1;
    }
    /* The file is built in memory (HDF5's core driver, no backing store) and
     * written by ckpt_commit in one go: every write to disk is then ours, so
     * a full disk or an I/O error is a clean error, never an HDF5 close that
     * fails half-way (which left HDF5 to crash at exit, tried on a full
     * tmpfs). */
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fcpl >= 0) H5Pset_userblock(fcpl, CKPT_USERBLOCK);
    if (fapl >= 0) H5Pset_fapl_core(fapl, 1 << 20, 0);
    H5E_BEGIN_TRY { w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, fcpl, fapl); } H5E_END_TRY;
    if (fcpl >= 0) H5Pclose(fcpl);
    if (fapl >= 0) H5Pclose(fapl);
    if (w->file < 0) {
        snprintf(err, cap, "%s: cannot create the checkpoint in memory", w->tmp);
        return -1;
    }
    if (ckpt_put_str(w->file, "format", CKPT_FORMAT) || ckpt_put_i64(w->file, "format_version", CKPT_VERSION)) {
        snprintf(err, cap, "%s: cannot write attributes", w->tmp);
        ckpt_abort(w);
        return -1;
    }
    return 0;
}

static int fsync_path(const char *path, int dir) {
    int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int ckpt_commit(ckpt_writer *w, char *err, size_t cap) {
    uint8_t *img = NULL;
    ssize_t len = -1;
    H5E_BEGIN_TRY {
        if (H5Fflush(w->file, H5F_SCOPE_GLOBAL) >= 0) len = H5Fget_file_image(w->file, NULL, 0);
        if (len > 0 && (img = malloc((size_t)len)) &&
            H5Fget_file_image(w->file, img, (size_t)len) != len)
            len = -1;
        H5Fclose(w->file);          /* in memory: nothing left to write */
    } H5E_END_TRY;
    w->file = H5I_INVALID_HID;
    if (len <= 0 || !img) {
        free(img);
        return rql_failf(err, cap, "%s: cannot build the checkpoint image (%s)", w->tmp,
                         len > 0 ? "out of memory" : "HDF5 error");
    }
    /* The image is the HDF5 file proper (from its superblock): the user
     * block that fcpl reserved goes before it, holding the digest. */
    char ub[CKPT_USERBLOCK];
    digest_header(ub, img, (size_t)len);
    /* Data on disk before the rename makes it visible: otherwise a power cut
     * could leave the new name pointing at an empty file. */
    int fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = 0;
    if (fd < 0) rc = rql_failf(err, cap, "%s: cannot create it: %s", w->tmp, strerror(errno));
    for (size_t off = 0; !rc && off < CKPT_USERBLOCK + (size_t)len;) {
        ssize_t k = off < CKPT_USERBLOCK ? write(fd, ub + off, CKPT_USERBLOCK - off)
                                         : write(fd, img + off - CKPT_USERBLOCK, CKPT_USERBLOCK + (size_t)len - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) rc = rql_failf(err, cap, "%s: cannot write the checkpoint: %s", w->tmp,
                                   k < 0 ? strerror(errno) : "short write");
        else off += (size_t)k;
    }
    if (!rc && fsync(fd)) rc = rql_failf(err, cap, "%s: fsync: %s", w->tmp, strerror(errno));
    if (fd >= 0 && close(fd) && !rc) rc = rql_failf(err, cap, "%s: close: %s", w->tmp, strerror(errno));
    free(img);
    if (!rc && rename(w->tmp, w->path))
        rc = rql_failf(err, cap, "%s -> %s: rename: %s", w->tmp, w->path, strerror(errno));
    if (rc) {
        unlink(w->tmp);          /* the previous checkpoint, if any, is untouched */
        return -1;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", w->path);
    fsync_path(dirname(dir), 1);   /* best effort: the rename itself is durable on most filesystems */
    return 0;
}

void ckpt_abort(ckpt_writer *w) {
    if (w->file >= 0) H5E_BEGIN_TRY { H5Fclose(w->file); } H5E_END_TRY;
    w->file = H5I_INVALID_HID;
    unlink(w->tmp);
}

hid_t ckpt_open(const char *path, char *err, size_t cap) {
    struct stat st;
    if (stat(path, &st) || access(path, R_OK)) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, cap, "%s: not a regular file", path);
        return -1;
    }
    /* A checkpoint that is not byte for byte what was written is refused
     * before HDF5 reads any of it. */
    if (ckpt_verify(path, err, cap) < 0) return -1;
    htri_t is;
    H5E_BEGIN_TRY { is = H5Fis_hdf5(path); } H5E_END_TRY;
    if (is <= 0) {
        snprintf(err, cap, "%s: not an HDF5 file", path);
        return -1;
    }
    hid_t f;
    hid_t fapl = rlog_fapl(0);
    H5E_BEGIN_TRY { f = H5Fopen(path, H5F_ACC_RDONLY, fapl); } H5E_END_TRY;
    if (fapl >= 0) H5Pclose(fapl);
    if (f < 0) {
        snprintf(err, cap, "%s: cannot open (damaged HDF5 file?)", path);
        return -1;
    }
    char *fmt = ckpt_get_str(f, "format");
    if (!fmt || strcmp(fmt, CKPT_FORMAT)) {
        snprintf(err, cap, "%s: not an rql checkpoint (format attribute is %s%s%s)", path,
                 fmt ? "'" : "", fmt ? fmt : "missing", fmt ? "'" : "");
        free(fmt);
        H5Fclose(f);
        return -1;
    }
    free(fmt);
    int64_t v = 0;
    if (ckpt_get_i64(f, "format_version", &v) || v != CKPT_VERSION) {
        snprintf(err, cap, "%s: checkpoint format version %lld, this rql reads %d", path, (long long)v,
                 CKPT_VERSION);
        H5Fclose(f);
        return -1;
    }
    return f;
}

int ckpt_put_bytes(hid_t loc, const char *name, const void *buf, size_t n) {
    hsize_t dims[1] = {n};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    if (sp < 0) return -1;
    hid_t d = H5Dcreate2(loc, name, H5T_NATIVE_UINT8, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = d < 0 || (n && H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) ? -1 : 0;
    if (d >= 0) H5Dclose(d);
    H5Sclose(sp);
    return rc;
}

int ckpt_get_bytes(hid_t loc, const char *name, void *buf, size_t n) {
    hid_t d;
    H5E_BEGIN_TRY { d = H5Dopen2(loc, name, H5P_DEFAULT); } H5E_END_TRY;
    if (d < 0) return -1;
    hid_t sp = H5Dget_space(d);
    hssize_t got = H5Sget_simple_extent_npoints(sp);
    int rc = got != (hssize_t)n ? -1 : 0;
    if (!rc && n && H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) rc = -1;
    H5Sclose(sp);
    H5Dclose(d);
    return rc;
}

static int put_attr(hid_t obj, const char *name, hid_t type, const void *v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a;
    H5E_BEGIN_TRY {
        if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
        a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    } H5E_END_TRY;
    int rc = a < 0 || H5Awrite(a, type, v) < 0 ? -1 : 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return rc;
}

static int get_attr(hid_t obj, const char *name, hid_t type, void *v) {
    hid_t a;
    H5E_BEGIN_TRY { a = H5Aexists(obj, name) > 0 ? H5Aopen(obj, name, H5P_DEFAULT) : -1; } H5E_END_TRY;
    if (a < 0) return -1;
    int rc = H5Aread(a, type, v) < 0 ? -1 : 0;
    H5Aclose(a);
    return rc;
}

int ckpt_put_i64(hid_t obj, const char *name, int64_t v) { return put_attr(obj, name, H5T_NATIVE_INT64, &v); }
int ckpt_get_i64(hid_t obj, const char *name, int64_t *v) { return get_attr(obj, name, H5T_NATIVE_INT64, v); }
int ckpt_put_f64(hid_t obj, const char *name, double v) { return put_attr(obj, name, H5T_NATIVE_DOUBLE, &v); }
int ckpt_get_f64(hid_t obj, const char *name, double *v) { return get_attr(obj, name, H5T_NATIVE_DOUBLE, v); }

int ckpt_put_str(hid_t obj, const char *name, const char *s) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    int rc = put_attr(obj, name, t, &s);
    H5Tclose(t);
    return rc;
}

char *ckpt_get_str(hid_t obj, const char *name) {
    hid_t a;
    H5E_BEGIN_TRY { a = H5Aexists(obj, name) > 0 ? H5Aopen(obj, name, H5P_DEFAULT) : -1; } H5E_END_TRY;
    if (a < 0) return NULL;
    hid_t ft = H5Aget_type(a);
    char *out = NULL;
    if (H5Tget_class(ft) == H5T_STRING) {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        H5Tset_cset(t, H5Tget_cset(ft));
        char *s = NULL;
        if (H5Tis_variable_str(ft) > 0) {
            if (H5Aread(a, t, &s) >= 0 && s) {
                out = strdup(s);
                hid_t sp = H5Aget_space(a);
                H5Dvlen_reclaim(t, sp, H5P_DEFAULT, &s);
                H5Sclose(sp);
            }
        } else {
            size_t n = H5Tget_size(ft);
            hid_t ct = H5Tcopy(H5T_C_S1);
            H5Tset_size(ct, n + 1);
            out = calloc(1, n + 1);
            if (out && H5Aread(a, ct, out) < 0) { free(out); out = NULL; }
            H5Tclose(ct);
        }
        H5Tclose(t);
    }
    H5Tclose(ft);
    H5Aclose(a);
    return out;
}

/* ---- an agent's state table -------------------------------------------------- */
static hid_t buf_type(agent_buf_type t) {
    switch (t) {
    case AGENT_BUF_U8: return H5T_NATIVE_UINT8;
    case AGENT_BUF_I32: return H5T_NATIVE_INT32;
    case AGENT_BUF_I64: return H5T_NATIVE_INT64;
    case AGENT_BUF_F32: return H5T_NATIVE_FLOAT;
    case AGENT_BUF_F64: return H5T_NATIVE_DOUBLE;
    default: return H5I_INVALID_HID;
    }
}

/* A network: a subgroup written or read by nets' weight I/O. */
static int net_io(hid_t g, const agent_buf *b, int save) {
    hid_t ng = H5I_INVALID_HID;
    H5E_BEGIN_TRY {
        ng = H5Lexists(g, b->name, H5P_DEFAULT) > 0 ? H5Gopen2(g, b->name, H5P_DEFAULT)
             : save ? H5Gcreate2(g, b->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : H5I_INVALID_HID;
    } H5E_END_TRY;
    if (ng < 0) return rql_set_error(RQL_EIO, "agent %s: group %s missing", save ? "save" : "load", b->name);
    int rc = save ? net_save_h5(b->ptr, ng) : net_load_h5(b->ptr, ng);
    H5Gclose(ng);
    return rc < 0 ? rql_set_error(RQL_EIO, "agent %s weights: %s", save ? "save" : "load", rql_error()) : 0;
}

static int put_buf(hid_t g, const agent_buf *b) {
    if (b->type == AGENT_BUF_NET) return net_io(g, b, 1);
    hid_t type = buf_type(b->type);
    if (H5Lexists(g, b->name, H5P_DEFAULT) > 0) H5Ldelete(g, b->name, H5P_DEFAULT);
    hsize_t dim = b->count;
    hid_t sp = H5Screate_simple(1, &dim, NULL);
    hid_t d = sp < 0 ? -1 : H5Dcreate2(g, b->name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t w = d < 0 ? -1 : b->count ? H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, b->ptr) : 0;
    if (d >= 0) H5Dclose(d);
    if (sp >= 0) H5Sclose(sp);
    return w < 0 ? rql_set_error(RQL_EIO, "agent_save: cannot write dataset '%s' (%zu values)", b->name, b->count)
                 : 0;
}

static int get_buf(hid_t g, const agent_buf *b) {
    if (b->type == AGENT_BUF_NET) return net_io(g, b, 0);
    if (H5Lexists(g, b->name, H5P_DEFAULT) <= 0)
        return rql_set_error(RQL_EIO, "agent_load: dataset '%s' is missing", b->name);
    hid_t d = H5Dopen2(g, b->name, H5P_DEFAULT);
    hid_t sp = d < 0 ? -1 : H5Dget_space(d);
    hssize_t have = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    int rc = 0;
    if (have != (hssize_t)b->count)
        rc = rql_set_error(RQL_EIO, "agent_load: dataset '%s' holds %lld values, this agent needs %zu", b->name,
                           (long long)have, b->count);
    else if (b->count && H5Dread(d, buf_type(b->type), H5S_ALL, H5S_ALL, H5P_DEFAULT, b->ptr) < 0)
        rc = rql_set_error(RQL_EIO, "agent_load: cannot read dataset '%s'", b->name);
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
    return rc;
}

int ckpt_put_agent(hid_t g, agent *a, agent_actor *train_actor) {
    if (!a || g < 0) return rql_set_error(RQL_EINVAL, "agent_save: agent is NULL or group invalid");
    agent_buf t[AGENT_STATE_MAX];
    int n = agent_state_table(a, train_actor, t, AGENT_STATE_MAX);
    if (n < 0) return n;
    for (int i = 0; i < n; i++) {
        int rc = put_buf(g, &t[i]);
        if (rc < 0) return rc;
    }
    return 0;
}

int ckpt_get_agent(hid_t g, agent *a, agent_actor *train_actor) {
    if (!a || g < 0) return rql_set_error(RQL_EINVAL, "agent_load: agent is NULL or group invalid");
    agent_buf t[AGENT_STATE_MAX];
    for (int s = 0; s < AGENT_STATE_STAGES; s++) {
        int n = agent_state_table(a, train_actor, t, AGENT_STATE_MAX);
        if (n < 0) return n;
        for (int i = 0; i < n; i++) {
            if (t[i].stage != s) continue;
            int rc = get_buf(g, &t[i]);
            if (rc < 0) return rc;
        }
        int rc = agent_state_restore(a, train_actor, s);
        if (rc < 0) return rc;
    }
    return 0;
}
