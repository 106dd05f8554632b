// SPDX-License-Identifier: GPL-2.0-or-later

package udp

import "gopasst/flow"

// fakePoller accepts every registration and counts them.
type fakePoller struct{ adds, dels, mods int }

func (p *fakePoller) Add(fd int, events uint32, ref flow.Ref) error { p.adds++; return nil }
func (p *fakePoller) Mod(fd int, events uint32, ref flow.Ref) error { p.mods++; return nil }
func (p *fakePoller) Del(fd int) error                              { p.dels++; return nil }
