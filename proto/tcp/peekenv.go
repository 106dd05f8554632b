// SPDX-License-Identifier: GPL-2.0-or-later

package tcp

import (
	"fmt"
	"os"
)

// PeekOffsetEnv names the environment variable that makes the handler
// peek without SO_PEEK_OFF ("off"), as it must on kernels before 6.10,
// where every peek starts at the head of the socket (see doc.go): the
// integration tests run that path on newer kernels with it. Unset, empty
// or "auto": SO_PEEK_OFF where the kernel has it.
const PeekOffsetEnv = "GOPASST_PEEK_OFFSET"

// PeekOffsetFromEnv reads PeekOffsetEnv: true to go without SO_PEEK_OFF
// (Config.NoPeekOffset). Any other value than auto or off is an error
// naming it.
func PeekOffsetFromEnv() (noPeekOffset bool, err error) {
	switch v := os.Getenv(PeekOffsetEnv); v {
	case "", "auto":
		return false, nil
	case "off":
		return true, nil
	default:
		return false, fmt.Errorf("%s=%q: want auto or off", PeekOffsetEnv, v)
	}
}
