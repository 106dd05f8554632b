// SPDX-License-Identifier: GPL-2.0-or-later

// Command echod is the tests' echo server for containers and namespaces
// whose file system holds no other: built static (CGO_ENABLED=0) by the
// integration tests and copied into a container's root. It echoes UDP
// datagrams (any size up to 65,535 bytes) and TCP streams on the given
// ports, dual-stack ("::" with IPV6_V6ONLY off), until killed.
//
//	echod -udp 5303 -tcp 7000
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
)

func main() {
	udp := flag.Int("udp", 0, "UDP port to echo on (0: none)")
	tcp := flag.Int("tcp", 0, "TCP port to echo on (0: none)")
	flag.Parse()
	if *udp == 0 && *tcp == 0 {
		fmt.Fprintln(os.Stderr, "echod: give -udp or -tcp")
		os.Exit(2)
	}
	done := make(chan error, 2)
	if *udp != 0 {
		c, err := net.ListenPacket("udp", fmt.Sprintf(":%d", *udp))
		if err != nil {
			fmt.Fprintln(os.Stderr, "echod:", err)
			os.Exit(1)
		}
		go func() {
			buf := make([]byte, 65535)
			for {
				n, from, err := c.ReadFrom(buf)
				if err != nil {
					done <- err
					return
				}
				c.WriteTo(buf[:n], from)
			}
		}()
	}
	if *tcp != 0 {
		l, err := net.Listen("tcp", fmt.Sprintf(":%d", *tcp))
		if err != nil {
			fmt.Fprintln(os.Stderr, "echod:", err)
			os.Exit(1)
		}
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					done <- err
					return
				}
				// Not io.Copy(c, c): its splice(2) holds a pipe, two
				// descriptors, per connection for as long as it lasts.
				go func() {
					io.CopyBuffer(struct{ io.Writer }{c}, struct{ io.Reader }{c}, make([]byte, 2<<10))
					c.Close()
				}()
			}
		}()
	}
	fmt.Fprintln(os.Stderr, "echod: ready")
	err := <-done
	fmt.Fprintln(os.Stderr, "echod:", err)
	os.Exit(1)
}
