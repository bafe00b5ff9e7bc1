//go:build !linux

package exporter

// processLimits reads the soft limits on open files and address space.
func (c *processCollector) processLimits() (openFiles, addressSpace uint64, err error) {
	limits, err := c.proc.Limits()
	if err != nil {
		return 0, 0, err
	}
	return limits.OpenFiles, limits.AddressSpace, nil
}
