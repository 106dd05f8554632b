// SPDX-License-Identifier: GPL-2.0-or-later

// Package audit writes the flow audit log (--audit-log FILE): one JSON
// object per line for each flow event, "open", "close", "deny" and
// "limit", with the time, protocol, direction, both endpoints, the rule
// that decided, and on close the payload bytes each way and the duration.
//
// # Theory of operation
//
// The event loop must never wait for a disk. Emit formats an event by hand
// (AppendJSON: no reflection, no allocation) into a scratch line, then
// copies it into a byte ring shared with a writer goroutine through two
// atomic counters (single producer, single consumer). When the ring is
// full the event is dropped and counted, and the count is on the stats
// line; the writer writes whole runs of lines and never blocks the
// producer. The file is opened by the launcher before the sandbox, which
// takes the file system away, and handed over as a descriptor.
//
// # Limits
//
// Events lost to a full ring are gone; the stats line says how many
// ("audit_dropped"). On exit the daemons wait a bounded time (one second)
// for the writer: a stuck file is abandoned. Flows still open when
// gopasst exits get no close event. The file grows without rotation.
package audit
