// SPDX-License-Identifier: GPL-2.0-or-later

// Command sandboxprobe applies gopasst's sandbox exactly as the daemons do
// and then tries one thing, named on the command line, to show what the
// sandbox allows:
//
//	sandboxprobe [-mode passt|pasta|waiter] [-action kill|trap|log] [-userns] TEST
//
// Modes: passt (passt's one sandboxed process), pasta (pasta's engine),
// waiter (the foreground launchers of both, sandbox.ConfineWaiter; -action
// does not apply), landlock (only the launchers' Landlock wall,
// sandbox.LandlockNoAccess, without their filter).
//
// Forbidden: open (openat /etc/passwd), execve (/bin/true), ptrace
// (PTRACE_TRACEME), mount (tmpfs on /), packet (socket(AF_PACKET)).
// Allowed: udp (a datagram over loopback to an inherited socket), tcp (a
// connection to an inherited listener, with data, SIOCOUTQ and a half
// close), runtime (a second of GC, big allocations, FreeOSMemory,
// goroutine storms, thread exits, timers and crypto/rand).
// sleep: print "ready" and wait for stdin to close, for outside checks.
//
// Stage one opens a loopback UDP socket and TCP listener, re-executes
// itself through sandbox.Reexec, prints "stage2 pid=N", waits, and prints
// "stage2 exited status=N" or "stage2 killed signal=N"; its own exit status
// is the child's, or 128+signal. The sandboxed stage prints "sandboxed",
// then "result: TEST ok" or "result: TEST errno=NAME" if the call returned.
package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/policy"
	"gopasst/sandbox"
)

const stageName = "probe"

func main() {
	modeFlag := flag.String("mode", "passt", "confinement to apply: passt, pasta, waiter or landlock")
	actionFlag := flag.String("action", "kill", "seccomp default action: kill, or with -tags seccompdebug trap or log (log is unsafe)")
	userns := flag.Bool("userns", true, "re-exec into a new user namespace (passt); false keeps the credentials (pasta as root)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: sandboxprobe [-mode passt|pasta] [-action kill|trap|log] [-userns] TEST")
		os.Exit(2)
	}
	mode := policy.ModePasst
	switch *modeFlag {
	case "passt", "waiter", "landlock":
	case "pasta":
		mode = policy.ModePasta
	default:
		die("unknown mode %q", *modeFlag)
	}
	action, err := sandbox.ParseAction(*actionFlag)
	if err != nil {
		die("%v", err)
	}
	if sandbox.Stage() == "" {
		os.Exit(stageOne(*userns))
	}
	stageTwo(mode, *modeFlag, action, flag.Arg(0))
}

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "sandboxprobe: "+format+"\n", args...)
	os.Exit(1)
}

// stageOne opens the sockets, re-executes and reports how the child ended.
func stageOne(userns bool) int {
	if err := sandbox.Initial(); err != nil {
		die("%v", err)
	}
	udp := loopbackSocket(unix.SOCK_DGRAM)
	tcp := loopbackSocket(unix.SOCK_STREAM)
	if err := unix.Listen(tcp, 8); err != nil {
		die("listen: %v", err)
	}
	files := []*os.File{os.NewFile(uintptr(udp), "udp"), os.NewFile(uintptr(tcp), "tcp")}
	p, err := sandbox.Reexec(stageName, files, sandbox.ReexecOptions{
		UserNS:    userns,
		Stdin:     os.Stdin,
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
		Pdeathsig: syscall.SIGKILL,
	})
	if err != nil {
		die("%v", err)
	}
	for _, f := range files {
		f.Close()
	}
	fmt.Printf("stage2 pid=%d\n", p.Pid)
	st, err := p.Wait()
	if err != nil {
		die("wait: %v", err)
	}
	ws := st.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		fmt.Printf("stage2 killed signal=%d (%v)\n", int(ws.Signal()), ws.Signal())
		return 128 + int(ws.Signal())
	}
	fmt.Printf("stage2 exited status=%d\n", ws.ExitStatus())
	return ws.ExitStatus()
}

func loopbackSocket(typ int) int {
	fd, err := unix.Socket(unix.AF_INET, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		die("socket: %v", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		die("bind: %v", err)
	}
	return fd
}

// stageTwo is the sandboxed process.
func stageTwo(mode policy.Mode, modeName string, action sandbox.Action, test string) {
	if err := sandbox.VerifyStage(); err != nil {
		die("%v", err)
	}
	fds, err := sandbox.InheritedFDs()
	if err != nil || len(fds) != 2 {
		die("inherited fds %v: %v", fds, err)
	}
	udp, tcp := fds[0], fds[1]
	probe, ok := probes[test]
	if !ok {
		die("unknown test %q", test)
	}
	if modeName == "waiter" {
		// The foreground launchers' confinement (sandbox.ConfineWaiter):
		// its own filter, Landlock, no capabilities; no empty root.
		if err := sandbox.ConfineWaiter(); err != nil {
			die("%v", err)
		}
	} else if modeName == "landlock" {
		// The launchers' second wall alone, to show what it refuses
		// where the filter would have killed first.
		if err := sandbox.LandlockNoAccess(); err != nil {
			die("%v", err)
		}
	} else if err := sandbox.Enter(mode, sandbox.Options{Action: action}); err != nil {
		die("%v", err)
	}
	st := sandbox.Status()
	fmt.Printf("sandboxed mode=%v action=%v insns=%d root=%v caps=%v nnp=%v\n",
		modeName, st.Action, st.Instructions, st.EmptyRoot, st.CapsDropped, st.NoNewPrivs)
	if err := probe(udp, tcp); err != nil {
		var errno unix.Errno
		if errors.As(err, &errno) {
			fmt.Printf("result: %s errno=%s\n", test, unix.ErrnoName(errno))
		} else {
			fmt.Printf("result: %s error=%v\n", test, err)
		}
		os.Exit(1)
	}
	fmt.Printf("result: %s ok\n", test)
	os.Exit(0)
}

var probes = map[string]func(udp, tcp int) error{
	"open": func(int, int) error {
		fd, err := unix.Open("/etc/passwd", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			unix.Close(fd)
		}
		return err
	},
	"execve": func(int, int) error {
		return unix.Exec("/bin/true", []string{"true"}, nil)
	},
	"ptrace": func(int, int) error {
		_, _, e := unix.RawSyscall(unix.SYS_PTRACE, unix.PTRACE_TRACEME, 0, 0)
		if e != 0 {
			return e
		}
		return nil
	},
	"mount": func(int, int) error {
		return unix.Mount("none", "/", "tmpfs", 0, "")
	},
	"packet": func(int, int) error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err == nil {
			unix.Close(fd)
		}
		return err
	},
	"udp":     probeUDP,
	"tcp":     probeTCP,
	"runtime": probeRuntime,
	"sleep":   probeSleep,
}

// retry calls fn until it stops returning EAGAIN/EINPROGRESS, for at most
// two seconds.
func retry(fn func() error) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := fn()
		if err != unix.EAGAIN && err != unix.EINPROGRESS && err != unix.EALREADY {
			return err
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(time.Millisecond)
	}
}

func probeUDP(udp, _ int) error {
	to, err := unix.Getsockname(udp)
	if err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Sendto(fd, []byte("ping"), 0, to); err != nil {
		return err
	}
	buf := make([]byte, 16)
	var n int
	err = retry(func() (err error) {
		n, _, err = unix.Recvfrom(udp, buf, 0)
		return err
	})
	if err != nil {
		return err
	}
	if string(buf[:n]) != "ping" {
		return fmt.Errorf("received %q", buf[:n])
	}
	return nil
}

func probeTCP(_, ln int) error {
	to, err := unix.Getsockname(ln)
	if err != nil {
		return err
	}
	c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(c)
	if err := unix.SetsockoptInt(c, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		return err
	}
	if err := unix.Connect(c, to); err != nil && err != unix.EINPROGRESS {
		return err
	}
	var a int
	if err := retry(func() (err error) {
		a, _, err = unix.Accept4(ln, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		return err
	}); err != nil {
		return fmt.Errorf("accept4: %w", err)
	}
	defer unix.Close(a)
	if _, err := unix.Write(c, []byte("hello")); err != nil {
		return err
	}
	if _, err := unix.IoctlGetInt(c, unix.SIOCOUTQ); err != nil {
		return fmt.Errorf("SIOCOUTQ: %w", err)
	}
	if _, err := unix.GetsockoptTCPInfo(c, unix.IPPROTO_TCP, unix.TCP_INFO); err != nil {
		return err
	}
	buf := make([]byte, 16)
	var n int
	if err := retry(func() (err error) { n, err = unix.Read(a, buf); return err }); err != nil {
		return err
	}
	if string(buf[:n]) != "hello" {
		return fmt.Errorf("received %q", buf[:n])
	}
	if err := unix.Shutdown(c, unix.SHUT_WR); err != nil {
		return err
	}
	if err := retry(func() (err error) { n, err = unix.Read(a, buf); return err }); err != nil || n != 0 {
		return fmt.Errorf("want EOF after shutdown, got %d bytes, %v", n, err)
	}
	return nil
}

// probeRuntime stresses the Go runtime paths that make rare syscalls.
func probeRuntime(int, int) error {
	deadline := time.Now().Add(time.Second)
	var sink [][]byte
	for i := 0; time.Now().Before(deadline); i++ {
		var wg sync.WaitGroup
		for g := 0; g < 200; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := make([]byte, 4096)
				_, _ = rand.Read(b[:16])
				sink = append(sink[:0:0], b)
			}()
		}
		// Locked goroutines that return take their thread with them (exit).
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				_, _ = rand.Read(make([]byte, 16))
			}()
		}
		// A tight loop that needs async preemption (SIGURG, tgkill).
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := 0
			for j := 0; j < 50_000_000; j++ {
				x += j
			}
			_ = x
		}()
		wg.Wait()
		big := make([]byte, 64<<20)
		big[len(big)-1] = 1
		runtime.GC()
		debug.FreeOSMemory()
		t := time.AfterFunc(time.Millisecond, func() {})
		time.Sleep(2 * time.Millisecond)
		t.Stop()
	}
	return nil
}

// probeSleep keeps the sandboxed process alive, with a few extra threads,
// until stdin is closed or 30 seconds pass.
func probeSleep(int, int) error {
	for i := 0; i < 4; i++ {
		go func() {
			runtime.LockOSThread()
			for {
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	time.AfterFunc(30*time.Second, func() { os.Exit(3) })
	fmt.Println("ready")
	_, err := io.Copy(io.Discard, os.Stdin)
	return err
}
