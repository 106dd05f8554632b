// SPDX-License-Identifier: GPL-2.0-or-later

// Package vhostuser is passt's vhost-user back end for a virtio-net device:
// qemu (the front end) connects to passt's UNIX socket, shares the guest's
// memory and virtqueues, and frames move between the rings and the engine.
package vhostuser
