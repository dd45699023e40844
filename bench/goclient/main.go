// SPDX-License-Identifier: Apache-2.0

// goclient: an independent load client for any v1 shim, built on containerd's own ttrpc
// client and generated shim API (Debian's golang-github-containerd-{ttrpc,containerd}-dev):
// the client containerd itself uses. Closed loop, one call in flight per connection; prints
// one JSON line. Driven by bench/indep.sh; cshim-bench does the same in C.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"sync"
	"time"

	shimapi "github.com/containerd/containerd/runtime/v1/shim/v1"
	"github.com/containerd/ttrpc"
	ptypes "github.com/gogo/protobuf/types"
)

type result struct {
	Method string  `json:"method"`
	Conns  int     `json:"conns"`
	N      int     `json:"n"`
	Errors int     `json:"errors"`
	RPS    float64 `json:"rps"`
	P50us  float64 `json:"p50_us"`
	P99us  float64 `json:"p99_us"`
}

func main() {
	sock := flag.String("socket", "", "the shim's socket")
	id := flag.String("id", "", "container id (State)")
	method := flag.String("method", "State", "State or ShimInfo")
	conns := flag.Int("conns", 1, "connections, one call in flight on each")
	dur := flag.Duration("duration", 3*time.Second, "measured window")
	warm := flag.Duration("warmup", 500*time.Millisecond, "unmeasured warm-up")
	flag.Parse()
	if *sock == "" || (*method != "State" && *method != "ShimInfo") {
		fmt.Fprintln(os.Stderr, "usage: goclient -socket PATH [-id ID] [-method State|ShimInfo] [-conns N] [-duration D]")
		os.Exit(2)
	}

	var (
		mu   sync.Mutex
		lat  []time.Duration
		errs int
		wg   sync.WaitGroup
	)
	start := time.Now().Add(*warm)
	end := start.Add(*dur)
	for i := 0; i < *conns; i++ {
		c, err := net.Dial("unix", *sock)
		if err != nil {
			fmt.Fprintln(os.Stderr, "goclient:", err)
			os.Exit(1)
		}
		wg.Add(1)
		go func(c net.Conn) {
			defer wg.Done()
			cl := ttrpc.NewClient(c)
			defer cl.Close()
			shim := shimapi.NewShimClient(cl)
			var local []time.Duration
			nerr := 0
			for {
				t0 := time.Now()
				if t0.After(end) {
					break
				}
				var err error
				if *method == "ShimInfo" {
					_, err = shim.ShimInfo(context.Background(), &ptypes.Empty{})
				} else {
					_, err = shim.State(context.Background(), &shimapi.StateRequest{ID: *id})
				}
				if t0.Before(start) {
					continue
				}
				if err != nil {
					nerr++
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			errs += nerr
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3
	}
	r := result{Method: *method, Conns: *conns, N: len(lat), Errors: errs,
		RPS: float64(len(lat)) / dur.Seconds(), P50us: q(0.5), P99us: q(0.99)}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}
