package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// client reads bodies as they come: it neither asks for nor undoes
// compression itself, so a gzip scrape's time is the compressed bytes'.
var client = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// get fetches url, asking for gzip if told, and returns the body as sent.
func get(url string, gzip bool) []byte {
	var b bytes.Buffer
	fetch(url, gzip, &b)
	return b.Bytes()
}

// scrape fetches url as get does and drops the body as it comes, so that
// timed scrapes spend no client CPU on growing a buffer.
func scrape(url string, gzip bool) { fetch(url, gzip, io.Discard) }

func fetch(url string, gzip bool, body io.Writer) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := client.Do(req)
	if err != nil {
		fail("%v", err)
	}
	defer resp.Body.Close()
	_, err = io.Copy(body, resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		fail("GET %s: %v %d", url, err, resp.StatusCode)
	}
	if gzip && resp.Header.Get("Content-Encoding") != "gzip" {
		fail("GET %s with Accept-Encoding: gzip: not gzipped", url)
	}
}

func post(url string) {
	resp, err := http.Post(url, "", nil)
	if err != nil {
		fail("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fail("POST %s: %s", url, resp.Status)
	}
}

func status(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// metric returns the value of the first series line starting with prefix.
func metric(body []byte, prefix string) float64 {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, prefix) {
			v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			return v
		}
	}
	return 0
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", msf(d)) }

func msf(d time.Duration) float64 { return float64(d) / 1e6 }

// mb is bytes in MB (10^6 bytes), to a tenth: targets are set in whole
// MB, and a measure near one must not round to its side.
func mb(bytes int64) string { return fmt.Sprintf("%.1f MB", float64(bytes)/1e6) }

func waitFor(cond func() bool) { waitForLong(3*time.Minute, cond) }

// waitForLong is waitFor with a deadline of its own.
func waitForLong(limit time.Duration, cond func() bool) {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			fail("timed out")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("%v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// atFail stops the exporter under test, if any, when fail exits.
var atFail func()

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchtool: "+format+"\n", args...)
	if atFail != nil {
		atFail()
	}
	os.Exit(1)
}
