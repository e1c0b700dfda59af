/* superblock — HDF5's open-for-write mark, read and cleared on disk (see
 * superblock.h).
 *
 * HDF5 1.10 marks a file open for writing in its superblock (version 3
 * status flags, set while a writer holds it, cleared at close) and then
 * refuses every non-SWMR open, read-only included: h5dump, HDFView, MATLAB and
 * a plain h5py.File(path) could not read a live log, nor one whose writer was
 * killed, until `h5clear -s`. After each flush, when everything written is
 * consistent on disk, rlog clears the mark in the on-disk copy of the
 * superblock (HDF5 never reads it back while it holds the file, and writes
 * its own copy again at the next flush or at close). A log killed at any
 * moment then opens in every HDF5 reader, except in the instant between
 * HDF5 rewriting the superblock during a flush and this patch, where it
 * still opens with SWMR readers (h5py swmr=True) and after `h5clear -s`.
 * The price is HDF5's guard against a second writer, which rql never needs:
 * `rql train` refuses an existing output unless resuming, and runs never
 * share a file.
 *
 * Superblock version 3 with 8-byte addresses: signature [0, 8), version [8],
 * sizes [9], [10], status flags [11], four addresses [12, 44), checksum
 * [44, 48): Jenkins' lookup3 hash of bytes [0, 44), as HDF5's
 * H5_checksum_metadata computes it. The stored checksum is verified with our
 * implementation before anything is written, so a layout we do not
 * recognise is left untouched. */

#include "log/superblock.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ROT(x, k) (((x) << (k)) | ((x) >> (32 - (k))))

static uint32_t lookup3(const uint8_t *k, size_t length, uint32_t initval) {
    uint32_t a, b, c;
    a = b = c = 0xdeadbeef + (uint32_t)length + initval;
    while (length > 12) {
        a += k[0] + ((uint32_t)k[1] << 8) + ((uint32_t)k[2] << 16) + ((uint32_t)k[3] << 24);
        b += k[4] + ((uint32_t)k[5] << 8) + ((uint32_t)k[6] << 16) + ((uint32_t)k[7] << 24);
        c += k[8] + ((uint32_t)k[9] << 8) + ((uint32_t)k[10] << 16) + ((uint32_t)k[11] << 24);
        a -= c; a ^= ROT(c, 4);  c += b;
        b -= a; b ^= ROT(a, 6);  a += c;
        c -= b; c ^= ROT(b, 8);  b += a;
        a -= c; a ^= ROT(c, 16); c += b;
        b -= a; b ^= ROT(a, 19); a += c;
        c -= b; c ^= ROT(b, 4);  b += a;
        length -= 12;
        k += 12;
    }
    switch (length) {           /* every case falls through */
    case 12: c += (uint32_t)k[11] << 24; /* fall through */
    case 11: c += (uint32_t)k[10] << 16; /* fall through */
    case 10: c += (uint32_t)k[9] << 8;   /* fall through */
    case 9:  c += k[8];                  /* fall through */
    case 8:  b += (uint32_t)k[7] << 24;  /* fall through */
    case 7:  b += (uint32_t)k[6] << 16;  /* fall through */
    case 6:  b += (uint32_t)k[5] << 8;   /* fall through */
    case 5:  b += k[4];                  /* fall through */
    case 4:  a += (uint32_t)k[3] << 24;  /* fall through */
    case 3:  a += (uint32_t)k[2] << 16;  /* fall through */
    case 2:  a += (uint32_t)k[1] << 8;   /* fall through */
    case 1:  a += k[0]; break;
    case 0:  return c;
    }
    c ^= b; c -= ROT(b, 14);
    a ^= c; a -= ROT(c, 11);
    b ^= a; b -= ROT(a, 25);
    c ^= b; c -= ROT(b, 16);
    a ^= c; a -= ROT(c, 4);
    b ^= a; b -= ROT(a, 14);
    c ^= b; c -= ROT(b, 24);
    return c;
}

static const uint8_t hdf5_sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

static uint32_t le32(const uint8_t *p) {
    return p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

void superblock_clear_open_mark(int fd) {
    if (fd < 0) return;
    uint8_t sb[48];
    if (pread(fd, sb, sizeof sb, 0) != (ssize_t)sizeof sb) return;
    if (memcmp(sb, hdf5_sig, 8) || sb[8] != 3 || sb[9] != 8 || sb[10] != 8 || sb[11] == 0) return;
    if (lookup3(sb, 44, 0) != le32(sb + 44)) return;
    sb[11] = 0;
    uint32_t c = lookup3(sb, 44, 0);
    for (int i = 0; i < 4; i++) sb[44 + i] = (uint8_t)(c >> (8 * i));
    if (pwrite(fd, sb + 11, 1, 11) == 1) {
        /* flags and checksum must agree: write the checksum right after */
        if (pwrite(fd, sb + 44, 4, 44) != 4) return;
    }
}

/* The superblock's file-consistency flags (byte 11 of a version 2/3
 * superblock, at offset 0 or after a user block of 512, 1024, ... bytes):
 * bit 0 is set while a writer has the file open, and stays set when the
 * writer was killed. HDF5 has no public call that reports it. */
int superblock_open_for_write(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    int res = 0;
    for (long off = 0; off <= 65536; off = off ? off * 2 : 512) {
        unsigned char b[12];
        if (fseek(fp, off, SEEK_SET) || fread(b, 1, sizeof b, fp) != sizeof b) break;
        if (memcmp(b, hdf5_sig, 8)) continue;
        res = b[8] >= 2 && (b[11] & 0x01);
        break;
    }
    fclose(fp);
    return res;
}
