// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// PoolBatch is how many sockets Pool.Socket makes inside the namespace in
// one call to the worker: passt's TCP_SOCK_POOL_SIZE.
const PoolBatch = 32

// maxPoolKinds bounds the socket kinds (domain, type, protocol) a Pool
// keeps; others are made one at a time.
const maxPoolKinds = 4

// Pool hands out sockets made inside the worker's namespace, PoolBatch
// at a time. Every Worker.Socket is a round trip to the worker's thread:
// two thread wake-ups (futex) and, on a busy machine, two trips through
// the scheduler, which set the rate at which pasta's splice paths from
// the host's loopback into the namespace open TCP connections and UDP
// flows. The pool pays that once
// per PoolBatch sockets, as passt's ns_sock_pool does (its refill
// clones a thread into the namespace). A Pool is used by one goroutine.
type Pool struct {
	w     *Worker
	kinds [maxPoolKinds]poolKind
	n     int // kinds in use
}

// poolKind is the stock of one kind of socket.
type poolKind struct {
	domain, typ, proto int
	fds                []int
}

// NewPool returns an empty pool over w.
func NewPool(w *Worker) *Pool { return &Pool{w: w} }

// Socket returns a socket of the kind asked for, made inside the
// namespace: from the stock, refilled with PoolBatch new ones when empty.
// It fits splice.Config.NsConnect and udp.Config.NsConnect.
func (p *Pool) Socket(domain, typ, proto int) (int, error) {
	k := p.kind(domain, typ, proto)
	if k == nil {
		return p.w.Socket(domain, typ, proto)
	}
	if len(k.fds) == 0 {
		if err := p.fill(k); err != nil {
			return -1, err
		}
	}
	fd := k.fds[len(k.fds)-1]
	k.fds = k.fds[:len(k.fds)-1]
	return fd, nil
}

// kind finds or adds the stock of one kind; nil when all slots are taken.
func (p *Pool) kind(domain, typ, proto int) *poolKind {
	for i := range p.n {
		if k := &p.kinds[i]; k.domain == domain && k.typ == typ && k.proto == proto {
			return k
		}
	}
	if p.n == maxPoolKinds {
		return nil
	}
	k := &p.kinds[p.n]
	*k = poolKind{domain: domain, typ: typ, proto: proto, fds: make([]int, 0, PoolBatch)}
	p.n++
	return k
}

// fill makes up to PoolBatch sockets of kind k in one call to the worker.
// Those made before a failure are kept; it fails only when none was.
func (p *Pool) fill(k *poolKind) error {
	err := p.w.Do(func() error {
		for len(k.fds) < PoolBatch {
			fd, err := unix.Socket(k.domain, k.typ|unix.SOCK_CLOEXEC, k.proto)
			if err != nil {
				return err
			}
			k.fds = append(k.fds, fd)
		}
		return nil
	})
	if len(k.fds) == 0 {
		return fmt.Errorf("socket in namespace: %w", err)
	}
	return nil
}

// Stock returns how many sockets the pool holds, for tests and the
// descriptor count.
func (p *Pool) Stock() int {
	n := 0
	for i := range p.n {
		n += len(p.kinds[i].fds)
	}
	return n
}

// Close closes the sockets in stock.
func (p *Pool) Close() {
	for i := range p.n {
		for _, fd := range p.kinds[i].fds {
			unix.Close(fd)
		}
		p.kinds[i].fds = p.kinds[i].fds[:0]
	}
}
