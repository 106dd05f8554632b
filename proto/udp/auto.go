// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"gopasst/fwd"
	"gopasst/policy"
)

// Opener opens and closes the listeners of one side at run time, for
// pasta's automatic forwarding (fwd.Auto): -u auto (ns false: listeners
// in the host's namespace for ports bound in the namespace) and -U auto
// (ns true: listeners inside the namespace for ports bound on the host).
type Opener struct {
	h  *Handler
	ns bool
}

var _ fwd.Opener = Opener{}

// Opener returns the Opener of one side; ns needs Config.NsSocket.
func (h *Handler) Opener(ns bool) Opener { return Opener{h: h, ns: ns} }

// Listen opens the listeners for l, as New does for a static rule: -U
// listeners without an address go on the namespace's loopback, both
// families.
func (o Opener) Listen(l policy.Listener) error {
	if o.ns && o.h.nsSock == nil {
		return errors.New("udp: no NsSocket for namespace listeners")
	}
	if l.ToPort == 0 {
		l.ToPort = l.Port
	}
	if o.ns && !l.Bind.IsValid() {
		// The namespace's loopback of each family the guest has.
		var err4, err6 error
		if o.h.hasFamily(false) {
			err4 = o.h.listen(&l, fwd.Loopback(false), true)
		}
		if o.h.hasFamily(true) {
			err6 = o.h.listen(&l, fwd.Loopback(true), true)
		}
		if (err4 != nil || !o.h.hasFamily(false)) && (err6 != nil || !o.h.hasFamily(true)) {
			return errors.Join(err4, err6)
		}
		return nil
	}
	return o.h.listen(&l, l.Bind, o.ns)
}

// Unlisten closes this side's listeners on port and the flows that came
// in through them.
func (o Opener) Unlisten(port uint16) error {
	h := o.h
	found := false
	for i := range h.lst {
		l := &h.lst[i]
		if l.fd < 0 || l.ns != o.ns || l.port != port {
			continue
		}
		found = true
		h.flush() // staged datagrams name flows by index
		for j := h.tbl.Len() - 1; j >= 0; j-- {
			if fl := h.tbl.At(j); fl.typ != flowOut && int(fl.lst) == i {
				h.closeFlow(j)
			}
		}
		_ = h.poller.Del(int(l.fd))
		unix.Close(int(l.fd))
		*l = listener{fd: -1}
	}
	if !found {
		return fmt.Errorf("udp: no listener on port %d", port)
	}
	return nil
}

// Bound reports whether one of this side's listeners holds port: the
// ports of its own a fwd.Scanner of that side must skip.
func (o Opener) Bound(port uint16) bool {
	for i := range o.h.lst {
		if l := &o.h.lst[i]; l.fd >= 0 && l.ns == o.ns && l.port == port {
			return true
		}
	}
	return false
}

// freeSlot returns the index of a closed listener slot, or len(h.lst).
func (h *Handler) freeSlot() int {
	for i := range h.lst {
		if h.lst[i].fd < 0 {
			return i
		}
	}
	return len(h.lst)
}
