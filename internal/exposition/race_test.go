//go:build race

package exposition

// raceEnabled: the race detector allocates for itself and its pools drop
// a quarter of what they are given, so counts of bytes allocated mean
// nothing.
const raceEnabled = true
