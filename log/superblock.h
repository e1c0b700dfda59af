/* superblock — HDF5's "open for write" mark in a file's superblock, read and
 * cleared on disk without HDF5.
 *
 * HDF5 (1.10 and later) sets status flags in a version 2/3 superblock while a
 * writer holds the file, and then refuses every non-SWMR open of it. The run
 * log clears the mark after each flush so that every HDF5 reader can open a
 * live or killed log (superblock.c says how and why), and `rql info` reports
 * it. Plain file I/O only: no HDF5 call, no global state.
 *
 * Files: superblock.c. Users: rlog_write.c, rlog_read.c.
 */
#ifndef RQL_SUPERBLOCK_H
#define RQL_SUPERBLOCK_H

/* Clears the status flags of the version 3 superblock at offset 0 of the
 * file open on fd (read-write), with its checksum recomputed. Best effort:
 * any surprise (another layout, a short read, a checksum that does not
 * match) leaves the file as HDF5 wrote it. fd < 0: no-op. */
void superblock_clear_open_mark(int fd);

/* 1 when path's superblock (at offset 0 or after a user block) says a writer
 * has the file open (live, or killed before it closed it), else 0. */
int superblock_open_for_write(const char *path);

#endif
