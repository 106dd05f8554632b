// SPDX-License-Identifier: GPL-2.0-or-later

package passt

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"gopasst/logging"
	"gopasst/pcap"
	"gopasst/policy"
)

// readyTimeout bounds the wait for the daemon's readiness byte.
const readyTimeout = 10 * time.Second

// launch is the process the user started: it opens what needs the file
// system and the caller's privileges, then serves in the foreground (-f)
// or hands everything to a daemon.
func launch(cfg *policy.Config, args []string) int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "passt:", err)
		return 1
	}
	if _, _, err := runAsIDs(cfg.RunAs); err != nil {
		return fail(err)
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
	sockPath := ""
	if cfg.Fd >= 0 {
		f, err := connectedFd(cfg.Fd)
		if err != nil {
			return fail(err)
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
			fmt.Fprint(os.Stderr, qemuHint(path))
		}
	}
	if cfg.Foreground {
		if cfg.PidFile != "" {
			if err := writePidFile(cfg.PidFile, os.Getpid()); err != nil {
				return fail(err)
			}
		}
		s, err := newSupervisor(cfg, &ho, args)
		if err != nil {
			return fail(err)
		}
		return s.run()
	}
	pid, err := daemonize(&ho, args)
	if err != nil {
		if sockPath != "" {
			os.Remove(sockPath)
		}
		return fail(err)
	}
	if cfg.PidFile != "" {
		if err := writePidFile(cfg.PidFile, pid); err != nil {
			syscall.Kill(pid, syscall.SIGTERM)
			return fail(err)
		}
	}
	return 0
}

// openPcap creates the capture file with its global header (pcap.Create)
// and reopens it for appending, so that each guest process, which cannot
// open files, adds its records to the same file through the inherited fd.
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

// daemonize starts this binary again as the daemon (new session, stdio on
// /dev/null) with the files of ho, and waits until it reports ready.
func daemonize(ho *handover, args []string) (int, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("daemonize: %w", err)
	}
	defer r.Close()
	ho.add(fileReady, w)
	cmd := exec.Command("/proc/self/exe", args...)
	cmd.Args[0] = os.Args[0]
	cmd.ExtraFiles = ho.files
	cmd.Env = append(os.Environ(), envStage+"="+stageDaemon, ho.env())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return 0, fmt.Errorf("daemonize: %w", err)
	}
	w.Close()
	pid := cmd.Process.Pid
	cmd.Process.Release()
	r.SetReadDeadline(time.Now().Add(readyTimeout))
	var b [1]byte
	if n, _ := r.Read(b[:]); n != 1 {
		syscall.Kill(pid, syscall.SIGKILL)
		return 0, fmt.Errorf("daemonize: the daemon (PID %d) did not become ready", pid)
	}
	return pid, nil
}

// daemonMain is the daemon: the supervisor on the inherited files, after
// telling the launcher it is ready.
func daemonMain(cfg *policy.Config, args []string) int {
	var ho handover
	for _, name := range []string{fileSocket, fileConn, fileLog, filePcap, fileAudit} {
		if fd := inheritedFD(name); fd >= 0 {
			unix.SetNonblock(fd, false)
			ho.add(name, os.NewFile(uintptr(fd), name))
		}
	}
	// Without -l the daemon and its guest processes log to the system
	// log, through a socket connected now, before any sandbox.
	var sys *logging.Syslog
	if inheritedFD(fileLog) < 0 {
		if s, err := logging.DialSyslog(logging.SyslogPath, "passt"); err == nil {
			sys = s
			ho.add(fileSyslog, s.File())
		}
	}
	log := newLogger(cfg, nil, sys)
	s, err := newSupervisor(cfg, &ho, args)
	if err != nil {
		log.Error(err.Error())
		return 1
	}
	if fd := inheritedFD(fileReady); fd >= 0 {
		unix.Write(fd, []byte{1})
		unix.Close(fd)
	}
	return s.run()
}

func writePidFile(path string, pid int) error {
	if err := os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return fmt.Errorf("write PID file: %w", err)
	}
	return nil
}
