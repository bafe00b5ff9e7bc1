package exporter

import "syscall"

// processLimits is what /proc/self/limits shows as the soft limits on open
// files and address space (RLIM_INFINITY as the largest uint64, as procfs
// reads "unlimited"), asked of the kernel directly: procfs parses the file
// with a regular expression compiled at each call, a quarter of this
// collector's cost per scrape.
func (c *processCollector) processLimits() (openFiles, addressSpace uint64, err error) {
	var files, as syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &files); err != nil {
		return 0, 0, err
	}
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &as); err != nil {
		return 0, 0, err
	}
	return files.Cur, as.Cur, nil
}
