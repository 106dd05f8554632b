// SPDX-License-Identifier: GPL-2.0-or-later

package passt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/guest"
	"gopasst/logging"
	"gopasst/pcap"
	"gopasst/policy"
	"gopasst/proto/tcp"
	"gopasst/proto/udp"
	"gopasst/sandbox"
)

// readyTimeout bounds the wait for the sandboxed process's readiness.
const readyTimeout = 10 * time.Second

// Readiness messages on the readiness pipe: readyOK alone, or readyFail
// followed by the error text.
const (
	readyOK   = 0
	readyFail = 'E'
)

// launch is the process the user started: it opens everything that needs
// the file system or the caller's privileges, gives up root, starts the
// sandboxed process and either returns once that is ready (the default)
// or, with -f, confines itself and waits for it. See "Processes".
func launch(cfg *policy.Config, args []string) int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "passt:", err)
		return 1
	}
	uid, gid, err := runAsIDs(cfg.RunAs)
	if err != nil {
		return fail(err)
	}
	if euid := os.Geteuid(); euid != 0 && cfg.RunAs != "" && uid != uint32(euid) {
		return fail(fmt.Errorf("--runas %s: only root can switch to another user", cfg.RunAs))
	}
	var ho handover
	logFile, err := openLog(cfg)
	if err != nil {
		return fail(err)
	}
	ho.add(fileLog, logFile)
	pcapFile, err := openPcap(cfg)
	if err != nil {
		return fail(err)
	}
	ho.add(filePcap, pcapFile)
	auditFile, err := openAudit(cfg)
	if err != nil {
		return fail(err)
	}
	ho.add(fileAudit, auditFile)
	if logFile == nil && !cfg.Foreground {
		// Without -l a daemon logs to the system log, through a socket
		// connected now, before the sandbox.
		if s, err := logging.DialSyslog(logging.SyslogPath, "passt"); err == nil {
			ho.add(fileSyslog, s.File())
		}
	}
	sockPath := ""
	if cfg.Fd >= 0 {
		f, err := connectedFd(cfg.Fd)
		if err != nil {
			return fail(err)
		}
		if !cfg.VhostUser { // vhost-user: frames travel in guest memory
			growBuffers(f)
		}
		ho.add(fileConn, f)
	} else {
		f, path, err := listenUnix(cfg.Socket)
		if err != nil {
			return fail(err)
		}
		ho.add(fileSocket, f)
		sockPath = path
		if !cfg.Quiet {
			fmt.Fprint(os.Stderr, qemuHint(path, cfg.VhostUser))
		}
		// The sandboxed process removes the socket at exit through this.
		dir, err := os.OpenFile(filepath.Dir(path), unix.O_PATH|unix.O_DIRECTORY, 0)
		if err != nil {
			os.Remove(path)
			return fail(fmt.Errorf("UNIX socket directory: %w", err))
		}
		ho.add(fileSockDir, dir)
	}
	removeSock := func() {
		if sockPath != "" {
			os.Remove(sockPath)
		}
	}
	if err := bindForwards(cfg, &ho); err != nil {
		removeSock()
		return fail(err)
	}
	var pidFile *os.File
	if cfg.PidFile != "" {
		// Opened now: the launcher may lose the right to create it.
		if pidFile, err = os.OpenFile(cfg.PidFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644); err != nil {
			removeSock()
			return fail(fmt.Errorf("write PID file: %w", err))
		}
	}
	if os.Geteuid() == 0 {
		// No uid-0 process is left: the launcher becomes the --runas
		// user (default nobody), whose uid the sandboxed process's root
		// then maps to.
		if uid == 0 {
			uid, gid = nobodyID, nobodyID
		}
		if sockPath != "" {
			// Its owner may remove it at exit, also from a sticky
			// /tmp. The price: other processes of that user (nobody
			// by default) own it too, and could chmod it and connect.
			os.Lchown(sockPath, int(uid), int(gid))
		}
		if err := sandbox.BecomeUser(sandbox.IDs{UID: uid, GID: gid}); err != nil {
			removeSock()
			return fail(err)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		removeSock()
		return fail(err)
	}
	defer r.Close()
	ho.add(fileReady, w)
	opt := sandbox.ReexecOptions{
		Args:   args,
		Env:    []string{ho.env()},
		UserNS: true,
		Setsid: !cfg.Foreground,
	}
	if cfg.Foreground {
		opt.Stdin, opt.Stdout, opt.Stderr = os.Stdin, os.Stdout, os.Stderr
		opt.Pdeathsig = syscall.SIGKILL
	}
	proc, err := sandbox.Reexec(stageSandboxed, ho.files, opt)
	w.Close()
	for _, f := range ho.files {
		f.Close()
	}
	if err != nil {
		removeSock()
		return fail(err)
	}
	if err := waitReady(r, proc); err != nil {
		removeSock()
		return fail(err)
	}
	var sigs chan os.Signal
	if cfg.Foreground {
		// Confined before --pid is written: whoever reads it finds
		// both processes confined.
		sigs = make(chan os.Signal, 4)
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
		if err := sandbox.ConfineWaiter(); err != nil {
			proc.Kill()
			proc.Wait()
			return fail(err)
		}
	}
	if pidFile != nil {
		// Through the descriptor opened earlier: the confined launcher
		// can no longer open files.
		_, err := pidFile.WriteString(strconv.Itoa(proc.Pid) + "\n")
		if cerr := pidFile.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			proc.Signal(syscall.SIGTERM)
			return fail(fmt.Errorf("write PID file: %w", err))
		}
	}
	if !cfg.Foreground {
		proc.Release()
		return 0
	}
	return waitSandboxed(proc, sigs)
}

// nobodyID is "nobody"/"nogroup" on Debian, the default --runas of root.
const nobodyID = 65534

// bindForwards binds every -t and -u listener now, before the sandbox, as
// the user who started passt (ports below 1024 need root or
// CAP_NET_BIND_SERVICE, which the sandboxed process never has), and fails
// naming the first port that cannot be bound, as passt's "Couldn't listen
// on requested ports". The sockets go to the sandboxed process, which
// hands them to each guest's handlers: they exist from start to end,
// whether a guest is connected or not.
func bindForwards(cfg *policy.Config, ho *handover) error {
	host, err := guest.HostInfoForConfig(cfg)
	if err != nil {
		return err
	}
	n, err := guest.Resolve(cfg, host)
	if err != nil {
		return err
	}
	if !n.NoTCP {
		for _, l := range cfg.TCPIn.Listeners() {
			fd, err := tcp.BindInbound(l, n.HasV4(), n.HasV6())
			if err != nil {
				return fmt.Errorf("couldn't listen on requested ports: -t %d: %w", l.Port, err)
			}
			ho.add(fileTCP, os.NewFile(uintptr(fd), "tcp"))
		}
	}
	if !n.NoUDP {
		for _, l := range cfg.UDPIn.Listeners() {
			fd, err := udp.BindInbound(l, n.HasV4(), n.HasV6())
			if err != nil {
				return fmt.Errorf("couldn't listen on requested ports: -u %d: %w", l.Port, err)
			}
			ho.add(fileUDP, os.NewFile(uintptr(fd), "udp"))
		}
	}
	return nil
}

// openPcap creates the capture file with its global header (pcap.Create)
// and reopens it for appending, so that the sandboxed process, which
// cannot open files, adds its records to it through the inherited fd.
func openPcap(cfg *policy.Config) (*os.File, error) {
	if cfg.PcapFile == "" {
		return nil, nil
	}
	w, err := pcap.Create(cfg.PcapFile)
	if err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("pcap file: %w", err)
	}
	f, err := os.OpenFile(cfg.PcapFile, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("pcap file: %w", err)
	}
	return f, nil
}

// waitReady waits until the sandboxed process reports that it is
// confined and serving, or fails with its error message.
func waitReady(r *os.File, proc *os.Process) error {
	r.SetReadDeadline(time.Now().Add(readyTimeout))
	msg, err := io.ReadAll(io.LimitReader(r, 4096))
	if err == nil && len(msg) > 0 && msg[0] == readyOK {
		return nil
	}
	proc.Kill()
	proc.Wait()
	switch {
	case len(msg) > 1 && msg[0] == readyFail:
		return errors.New(string(bytes.TrimSpace(msg[1:])))
	case err != nil:
		return fmt.Errorf("the sandboxed process (PID %d) did not become ready: %w", proc.Pid, err)
	}
	return fmt.Errorf("the sandboxed process (PID %d) exited before it was ready", proc.Pid)
}

// ready tells the launcher that this process is confined and serving
// (err nil), or why it failed. Call it once.
func ready(err error) {
	fd := inheritedFD(fileReady)
	if fd < 0 {
		return
	}
	f := os.NewFile(uintptr(fd), fileReady)
	defer f.Close()
	if err == nil {
		f.Write([]byte{readyOK})
		return
	}
	f.Write(append([]byte{readyFail}, err.Error()...))
}

// waitSandboxed is the rest of a foreground launcher, confined by now
// (sandbox.ConfineWaiter: no file access, no exec, no capability): it
// forwards the signals arriving on sigs to the sandboxed process, waits
// for it and exits with its status.
func waitSandboxed(proc *os.Process, sigs chan os.Signal) int {
	done := make(chan *os.ProcessState, 1)
	go func() {
		ps, _ := proc.Wait()
		done <- ps
	}()
	for {
		select {
		case s := <-sigs:
			proc.Signal(s)
		case ps := <-done:
			if ps == nil {
				return 1
			}
			if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return 128 + int(ws.Signal())
			}
			return ps.ExitCode()
		}
	}
}
