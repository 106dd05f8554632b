// SPDX-License-Identifier: GPL-2.0-or-later

package ctl

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Do sends one request to the control socket at path and returns the
// lines of the answer before its final "ok"; the final "error MESSAGE"
// is returned as an error.
func Do(path, request string, timeout time.Duration) ([]string, error) {
	if strings.ContainsAny(request, "\r\n") || len(request) >= MaxLine {
		return nil, errors.New("request must be one line of fewer than 512 bytes")
	}
	c, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte(request + "\n")); err != nil {
		return nil, err
	}
	var lines []string
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case l == "ok":
			return lines, nil
		case strings.HasPrefix(l, "error "):
			return lines, errors.New(strings.TrimPrefix(l, "error "))
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return lines, err
	}
	return lines, fmt.Errorf("%s: connection closed without an answer", path)
}
