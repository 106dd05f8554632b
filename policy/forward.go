// SPDX-License-Identifier: GPL-2.0-or-later

package policy

// Forward is a parsed -t/-u/-T/-U spec. (Placeholder; the parser lands next.)
type Forward struct {
	Mode ForwardMode
}
