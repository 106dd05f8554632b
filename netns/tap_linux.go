// SPDX-License-Identifier: GPL-2.0-or-later

package netns

import (
	"fmt"
	"net"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Defaults for the tap device, as pasta's.
const (
	// DefaultMTU is the tap MTU when -m is not given (passt's 65520).
	DefaultMTU = 65520
	// DefaultIfname is the tap name when -I is not given and the host has
	// no outbound interface.
	DefaultIfname = "tap0"
	// TxQueueLen is the tap's transmit queue length, in frames. The
	// kernel's default of 1000 overflows at small MTUs when the guest
	// sends faster than one wake-up of the event loop drains.
	TxQueueLen = 10000
)

// OpenTap creates the tap device name (IFF_TAP|IFF_NO_PI, and
// IFF_VNET_HDR if vnet: every frame read or written then has a
// virtio-net header, see tap.SetOffloads) in w's network namespace and
// returns its non-blocking, close-on-exec file descriptor and the name the
// kernel gave it. It sets the MTU (unless mtu is 0), the
// transmit queue length and, if mac is not nil, the hardware address, then
// brings the tap and lo up. Mirrors tap_ns_tun() in passt tap.c.
func OpenTap(w *Worker, name string, mtu int, mac net.HardwareAddr, vnet bool) (fd int, ifname string, err error) {
	if len(name) >= unix.IFNAMSIZ {
		return -1, "", fmt.Errorf("interface name %q: longer than %d bytes", name, unix.IFNAMSIZ-1)
	}
	fd = -1
	err = w.Do(func() error {
		f, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open /dev/net/tun: %w", err)
		}
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			unix.Close(f)
			return fmt.Errorf("interface name %q: %w", name, err)
		}
		flags := uint16(unix.IFF_TAP | unix.IFF_NO_PI)
		if vnet {
			flags |= unix.IFF_VNET_HDR
		}
		ifr.SetUint16(flags)
		if err := unix.IoctlIfreq(f, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(f)
			return fmt.Errorf("TUNSETIFF %s: %w", name, err)
		}
		ifname = ifr.Name()
		if err := setupLink(ifname, mtu, mac); err != nil {
			unix.Close(f)
			return err
		}
		fd = f
		return nil
	})
	if err != nil {
		return -1, "", err
	}
	return fd, ifname, nil
}

// TapOffloadEnv names the environment variable that turns pasta's tap
// offloads off ("off") or on ("on", the default when it is unset or
// empty); the launcher passes it to the engine process.
const TapOffloadEnv = "GOPASST_TAP_OFFLOAD"

// TapOffloadFromEnv reads TapOffloadEnv: whether to open the tap with a
// virtio-net header and offloads. Any other value is an error naming it.
func TapOffloadFromEnv() (bool, error) {
	switch v := os.Getenv(TapOffloadEnv); v {
	case "", "on":
		return true, nil
	case "off":
		return false, nil
	default:
		return false, fmt.Errorf("%s=%q: want on or off", TapOffloadEnv, v)
	}
}

// setupLink runs on the worker thread.
func setupLink(ifname string, mtu int, mac net.HardwareAddr) error {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink socket in namespace: %w", err)
	}
	defer h.Close()
	link, err := h.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("find link %s: %w", ifname, err)
	}
	if mtu > 0 {
		if err := h.LinkSetMTU(link, mtu); err != nil {
			return fmt.Errorf("set MTU %d on %s: %w", mtu, ifname, err)
		}
	}
	if err := h.LinkSetTxQLen(link, TxQueueLen); err != nil {
		return fmt.Errorf("set txqueuelen on %s: %w", ifname, err)
	}
	if mac != nil {
		if err := h.LinkSetHardwareAddr(link, mac); err != nil {
			return fmt.Errorf("set MAC %s on %s: %w", mac, ifname, err)
		}
	}
	// Router advertisements from gopasst configure the guest's IPv6 when
	// --config-net is not given. A new namespace has accept_ra=1 already;
	// write it anyway, in case the defaults were inherited from a host
	// that turned it off. Best effort: the file is absent without IPv6.
	_ = writeSysctl("net/ipv6/conf/"+ifname+"/accept_ra", "1")
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find link lo: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("set %s up: %w", ifname, err)
	}
	return nil
}

// writeSysctl writes value to /proc/sys/key. Files under /proc/sys/net
// belong to the network namespace of the thread that opens them, so on the
// worker this writes the target's settings.
func writeSysctl(key, value string) error {
	return os.WriteFile("/proc/sys/"+key, []byte(value), 0)
}

// LinkMAC returns the hardware address of ifname in w's network namespace:
// pasta tells the engine the tap's address up front, so that frames to the
// guest carry its MAC before the guest has sent anything (as passt reads
// it in pasta_ns_conf()).
func LinkMAC(w *Worker, ifname string) (mac net.HardwareAddr, err error) {
	err = w.Do(func() error {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("netlink socket in namespace: %w", err)
		}
		defer h.Close()
		link, err := h.LinkByName(ifname)
		if err != nil {
			return fmt.Errorf("find link %s: %w", ifname, err)
		}
		mac = link.Attrs().HardwareAddr
		return nil
	})
	return mac, err
}
