package exporter

import (
	"bufio"
	"io"
	"sync"
	"sync/atomic"
	"testing"
)

// TestLargeOutBuffersBounded: however many answers are written at once,
// no more than largeOuts large buffers exist; the others are small, and a
// large one given back is taken again.
func TestLargeOutBuffersBounded(t *testing.T) {
	var held []*bufio.Writer
	large := 0
	for range largeOuts + 3 {
		bw := takeOut(io.Discard)
		held = append(held, bw)
		switch bw.Size() {
		case largeOutSize:
			large++
		case smallOutSize:
		default:
			t.Fatalf("a buffer of %d bytes", bw.Size())
		}
	}
	if large != largeOuts {
		t.Fatalf("%d large buffers out of %d taken at once, want %d", large, len(held), largeOuts)
	}
	for _, bw := range held {
		giveOut(bw)
	}
	// Many scrapes at once, over and over: never more large ones.
	var wg sync.WaitGroup
	var out atomic.Int32
	for range 8 {
		wg.Go(func() {
			for range 200 {
				bw := takeOut(io.Discard)
				if bw.Size() == largeOutSize && out.Add(1) > largeOuts {
					t.Error("more large buffers out at once than largeOuts")
				}
				bw.WriteString("x")
				if bw.Size() == largeOutSize {
					out.Add(-1)
				}
				giveOut(bw)
			}
		})
	}
	wg.Wait()
	// The same large buffers are taken again, not new ones made.
	again := map[*bufio.Writer]bool{}
	for range largeOuts {
		bw := takeOut(io.Discard)
		again[bw] = true
		defer giveOut(bw)
	}
	for _, bw := range held {
		if bw.Size() == largeOutSize && !again[bw] {
			t.Error("a large buffer given back was not taken again")
		}
	}
}
