// SPDX-License-Identifier: GPL-2.0-or-later

package flow

import (
	"fmt"
	"math"
	"time"

	"gopasst/proto/l2"
)

// Handler is the one contract between the engine and a protocol handler:
// TCP, UDP, ICMP echo, the spliced TCP relay, pasta's auto-forwarding
// scanner, and the link services (ARP, NDP, DHCP, DHCPv6) all implement
// it. A handler is made by its package's New from one Config value that
// carries everything it needs (the engine's Poller and Tap, the guest's
// Net, the shared Budget, the logger); nothing is set after New. It is
// given to the engine once, with engine.Add, which reads its Claim.
//
// Each wake-up of the engine calls, in this order: Begin on every
// handler; HandleTap for each frame from the guest of a class the handler
// claims, and HandleSock for each ready fd of a kind it claims, as they
// come; Tick on every handler when a TickInterval has passed; End on
// every handler; then the engine writes out the frames sent to the Tap.
// Handlers are called in the order they were added. now is the monotonic
// clock in nanoseconds, the same value for every call of one wake-up.
//
// Every method runs on the engine's goroutine; none may block.
type Handler interface {
	// Claim says what the handler owns. The engine reads it once, when
	// the handler is added; it must not change afterwards.
	Claim() Claim
	// Begin starts a wake-up. Frames sent to the Tap in the previous one
	// have been written out (or dropped): their buffers are free again.
	Begin(now int64)
	// HandleSock is called for a ready fd registered with one of the
	// handler's Kinds; events are the unix.EPOLL* bits.
	HandleSock(ref Ref, events uint32, now int64)
	// HandleTap takes a frame from the guest of one of the handler's
	// Frames classes. f and its bytes are valid only during the call;
	// for a Batcher, its bytes until EndBatch.
	// The verdict tells the engine whether the frame was the handler's
	// (Accept: it counts it and keeps the guest's MAC and link-local
	// address learned from it) or is dropped, and why.
	HandleTap(f *l2.Frame, now int64) Verdict
	// Tick runs the handler's timers. It is called at least every
	// TickInterval, between Begin and End.
	Tick(now int64)
	// End ends the wake-up: deferred work (batched ACKs, window updates,
	// staged datagrams) is done now. The engine writes out the frames
	// right after the last End.
	End(now int64)
	// Stats returns the handler's counters, those named in Claim's
	// Counters. It is read for the stats line only (at most once per
	// TickInterval), never per packet.
	Stats() Stats
}

// Claim is what a handler owns, as it tells the engine.
type Claim struct {
	// Name prefixes the handler's counters on the stats line
	// ("tcp" gives tcp_opens=N ...): short, lower case, unique.
	Name string
	// Kinds are the epoll kinds whose events go to HandleSock. One
	// handler owns a kind; KindTap and KindEngine are the engine's.
	Kinds []Kind
	// Frames are the classes of frames from the guest that go to
	// HandleTap. One handler owns a class.
	Frames Frames
	// Counters are the counters the handler fills, as they appear on
	// the stats line (in Counter order).
	Counters Counters
}

// FrameClass is a class of frames from the guest, as the engine sorts
// them after parsing (see package engine for the exact rules).
type FrameClass uint8

// Frame classes.
const (
	FrameARP    FrameClass = iota // ARP
	FrameNDP                      // ICMPv6 types 133–137 (RS, RA, NS, NA, redirect)
	FrameDHCP                     // UDP over IPv4 to port 67, unless DHCP is off
	FrameDHCPv6                   // UDP over IPv6 to port 547, unless DHCPv6 is off
	FrameTCP                      // TCP
	FrameUDP                      // every other UDP datagram
	FrameEcho                     // ICMP echo request, ICMPv6 echo request
	NumFrameClasses
)

var frameClassNames = [NumFrameClasses]string{"arp", "ndp", "dhcp", "dhcpv6", "tcp", "udp", "echo"}

// String returns the class's name.
func (c FrameClass) String() string {
	if c < NumFrameClasses {
		return frameClassNames[c]
	}
	return fmt.Sprintf("FrameClass(%d)", uint8(c))
}

// Frames is a set of frame classes.
type Frames uint16

// FramesOf returns the set of the given classes.
func FramesOf(cs ...FrameClass) Frames {
	var s Frames
	for _, c := range cs {
		s |= 1 << c
	}
	return s
}

// Has reports whether c is in the set.
func (s Frames) Has(c FrameClass) bool { return s&(1<<c) != 0 }

// Verdict is what a handler did with a frame from the guest.
type Verdict uint8

// Verdicts. The drops are counted by the engine under the reason of the
// same name (engine.DropNotForUs, engine.DropBadChecksum).
const (
	// Accept: the frame was for this handler; whatever the handler then
	// did with it (relayed, answered, or dropped and counted in its own
	// Stats) is its business.
	Accept Verdict = iota
	// NotForUs: well formed, but nothing to answer.
	NotForUs
	// BadChecksum: the frame's transport checksum is wrong.
	BadChecksum
)

var verdictNames = [...]string{"accept", "not_for_us", "bad_checksum"}

// String returns the verdict's name.
func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return fmt.Sprintf("Verdict(%d)", uint8(v))
}

// Sleeper is implemented by handlers that know when their Tick has
// work. NextTick returns the monotonic time by which Tick must run next:
// now or earlier for the next TickInterval, math.MaxInt64 when no timer
// is armed. It is asked after each Tick; any event in between brings a
// Tick within a TickInterval anyway. When every handler is a Sleeper
// the engine may wait up to IdleTickInterval between two Ticks.
type Sleeper interface {
	NextTick(now int64) int64
}

// Batcher is implemented by a handler that keeps the bytes of the frames
// HandleTap gave it past the call, to gather the work of several frames
// into one system call (the TCP handler writes consecutive segments of a
// connection with one sendmsg). The engine calls EndBatch after each
// batch of frames it read from the device, before it reads the next one
// into the same buffers; after EndBatch the handler holds no reference to
// them. The engine calls EndBatch before End in every wake-up that read
// frames.
type Batcher interface {
	EndBatch(now int64)
}

// IdleTickInterval is the longest the engine waits between two Ticks
// when every handler is a Sleeper and none has a timer due sooner.
const IdleTickInterval = time.Second

// Nop implements every method of Handler but Claim as doing nothing, and
// Stats as all zero, and Sleeper as never due. A handler embeds it and
// overrides what it uses: one that overrides Tick overrides NextTick too.
type Nop struct{}

func (Nop) Begin(int64)                        {}
func (Nop) HandleSock(Ref, uint32, int64)      {}
func (Nop) HandleTap(*l2.Frame, int64) Verdict { return NotForUs }
func (Nop) Tick(int64)                         {}
func (Nop) NextTick(int64) int64               { return math.MaxInt64 }
func (Nop) End(int64)                          {}
func (Nop) Stats() Stats                       { return Stats{} }
