// SPDX-License-Identifier: GPL-2.0-or-later

package vhostuser

import (
	"errors"
	"log/slog"

	"gopasst/tap"
)

// Config is what New needs besides the connection.
type Config struct {
	Log *slog.Logger // nil: slog.Default()
}

// Device is a tap.Device on a vhost-user connection from qemu (the
// front end): it answers the control messages and moves frames through
// the guest's virtqueues. It belongs to the event loop.
type Device struct {
	conn int
}

var _ tap.Device = (*Device)(nil)

// New makes a Device on conn, an accepted, non-blocking UNIX stream socket
// from qemu. The Device owns conn from now on, also on error.
func New(conn int, cfg Config) (*Device, error) {
	return nil, errors.New("vhost-user: not implemented yet")
}

// Fd returns the descriptor to register with epoll.
func (d *Device) Fd() int { return d.conn }

// ReadFrames implements tap.Device.
func (d *Device) ReadFrames(bufs [][]byte, sizes []int) (int, error) { return 0, tap.ErrClosed }

// WriteFrames implements tap.Device.
func (d *Device) WriteFrames(frames [][]byte) (int, error) { return 0, tap.ErrClosed }

// Close implements tap.Device.
func (d *Device) Close() error { return nil }
