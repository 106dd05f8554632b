// SPDX-License-Identifier: GPL-2.0-or-later

// Package logfile is the -l/--log-file log of bounded size (--log-size),
// as passt's log.c.
//
// # Theory of operation
//
// Open truncates the file, as passt's logfile_init(). Every Write finds
// the end of the file (lseek), and if the line would take the file past
// the limit, first makes room by removing old lines at the beginning:
// the first 30% of the limit, or as much as the line needs, rounded up to
// the end of a line (passt's LOGFILE_CUT_RATIO). The rest is moved to the
// start with read and write, and the file truncated (passt tries
// fallocate(FALLOC_FL_COLLAPSE_RANGE) first and falls back to the same
// move; the move works on every file system). Only read, write, lseek and
// ftruncate are used, all in the seccomp allowlist, so a sandboxed
// process keeps logging.
//
// # Limits
//
// The file is not opened with O_APPEND (a move needs positioned writes):
// processes sharing the open file (passt's supervisor and its guest
// processes) each seek to the end before writing, and two lines written
// at the same instant by two of them may overwrite each other. A line
// longer than the limit keeps only its last bytes.
package logfile
