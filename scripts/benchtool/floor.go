package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// floorCommand is the argument that makes benchtool a floor server.
const floorCommand = "serve-floor"

// floorServer is a process of its own serving the exporter's answers from
// memory, as nginx gzip_static would serve a file: like the exporter, and
// unlike a server inside this process, it has its own runtime and threads
// to wake.
type floorServer struct {
	cmd  *exec.Cmd
	base string
}

// startFloor writes both bodies to dir and starts this program again as
// the floor server for them.
func startFloor(dir string, plain, gzipped []byte) *floorServer {
	for name, body := range map[string][]byte{"plain": plain, "gzip": gzipped} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
			fail("%v", err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		fail("%v", err)
	}
	cmd := exec.Command(self, floorCommand, dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fail("%v", err)
	}
	if err := cmd.Start(); err != nil {
		fail("%v", err)
	}
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		fail("floor server: %v", err)
	}
	return &floorServer{cmd: cmd, base: "http://" + strings.TrimSpace(addr)}
}

func (f *floorServer) close() {
	f.cmd.Process.Kill()
	f.cmd.Wait()
}

// serveFloor is the floor server's main: it serves dir/gzip at /gzip with
// Content-Encoding: gzip and dir/plain at /plain, each whole with its
// Content-Length, and prints its address once listening.
func serveFloor(dir string) {
	mux := http.NewServeMux()
	for _, name := range []string{"plain", "gzip"} {
		body, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			fail("%v", err)
		}
		length := strconv.Itoa(len(body))
		mux.HandleFunc("/"+name, func(w http.ResponseWriter, _ *http.Request) {
			h := w.Header()
			h.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
			h.Set("Content-Length", length)
			if name == "gzip" {
				h.Set("Content-Encoding", "gzip")
			}
			w.Write(body)
		})
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("%v", err)
	}
	fmt.Println(l.Addr())
	fail("%v", http.Serve(l, mux))
}
