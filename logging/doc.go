// SPDX-License-Identifier: GPL-2.0-or-later

// Package logging holds where passt's and pasta's messages go, as passt's
// log.c: standard error, the system log, or a log file kept within a size.
//
// # Theory of operation
//
// cmd/ chooses one destination when a process starts, before the sandbox,
// because afterwards nothing can be opened:
//
//   - -l FILE: File, a writer on a descriptor opened O_RDWR (Open). Each
//     message is one write(2) at the end of the file. When it would make
//     the file larger than --log-size, Write first drops the oldest part,
//     in place on the open descriptor: it keeps the newest lines that fit
//     in 70% of the size (the cut ends at a line boundary, as passt's
//     LOGFILE_CUT_RATIO of 30%), moves them to the start with pread(2),
//     lseek(2) and write(2), and truncates with ftruncate(2). Those four
//     calls, already needed by the event loop, are all the sandbox allows
//     it; passt's FALLOC_FL_COLLAPSE_RANGE is not used (tmpfs and many
//     file systems refuse it, and it cuts inside a line).
//   - a daemon without -l: Syslog, a datagram socket connected to
//     /dev/log (DialSyslog), one message per datagram in RFC 3164's form
//     without the timestamp, which the system logger adds, as passt
//     sends it: "<PRI>passt[PID]: message key=value ...", facility daemon.
//   - otherwise standard error, with slog's text format.
//
// Level maps -q, -d and --trace to a slog level: warnings and errors only,
// debug, and debug with per-packet tracing (which the engine guards with
// its own flag, as passt's trace()).
//
// # Limits
//
// A File is one process's: another process writing the same file through
// its own File could race a rotation (passt's launcher writes nothing to
// it; its one sandboxed process does all the logging). A system logger that restarts breaks the connection for good: the
// sandbox cannot connect again, so later messages are dropped (counted by
// Syslog.Dropped).
package logging
