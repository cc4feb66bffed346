package schedule

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"syscall"
)

// userHZ is the unit of the CPU times in /proc/self/stat; Linux reports
// them in USER_HZ, 100 on every architecture Go supports.
const userHZ = 100

// writeProcessMetrics writes the process's CPU time, memory, file
// descriptors and start time, read from /proc, and its goroutine count,
// with the names and help of client_golang's process and Go collectors. A
// value that cannot be read is left out.
func writeProcessMetrics(w *bufio.Writer) {
	write := func(name, help, kind string, value float64) {
		writeHeader(w, name, help, kind)
		writeSample(w, name, nil, nil, "", 0, value)
	}
	write("go_goroutines", "Number of goroutines that currently exist.", "gauge", float64(runtime.NumGoroutine()))
	stat, statOK := readProcStat()
	if statOK {
		write("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter",
			float64(stat.utime+stat.stime)/userHZ)
	}
	var limit syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit) == nil {
		write("process_max_fds", "Maximum number of open file descriptors.", "gauge", float64(limit.Cur))
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		write("process_open_fds", "Number of open file descriptors.", "gauge", float64(len(fds)))
	}
	if !statOK {
		return
	}
	write("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge",
		float64(stat.rss*uint64(os.Getpagesize())))
	if boot, ok := bootTime(); ok {
		write("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge",
			float64(boot)+float64(stat.starttime)/userHZ)
	}
	write("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge", float64(stat.vsize))
}

// procStat holds the fields of /proc/self/stat the metrics use.
type procStat struct {
	utime, stime, starttime, vsize, rss uint64
}

// readProcStat reads /proc/self/stat (see proc_pid_stat(5)).
func readProcStat() (procStat, bool) {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return procStat{}, false
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// the fields after its closing parenthesis start at field 3.
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return procStat{}, false
	}
	fields := bytes.Fields(data[end+1:])
	if len(fields) < 22 {
		return procStat{}, false
	}
	field := func(n int) uint64 {
		v, _ := strconv.ParseUint(string(fields[n-3]), 10, 64)
		return v
	}
	return procStat{utime: field(14), stime: field(15), starttime: field(22), vsize: field(23), rss: field(24)}, true
}

// bootTime returns the boot time in Unix seconds, from /proc/stat.
func bootTime() (uint64, bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			n, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
