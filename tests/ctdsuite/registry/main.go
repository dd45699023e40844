// SPDX-License-Identifier: Apache-2.0
//
// ctdsuite-registry: a read-only OCI distribution endpoint (plain HTTP on 127.0.0.1) serving one
// image built at start-up from the host's busybox-static: /bin/busybox, a symlink per applet,
// /etc/passwd and /etc/group like the busybox image's. It stands in for ghcr.io so containerd's
// integration/client suite can pull its seed image offline. Any repository and tag name resolve
// to that image. Writes the port to -port-file once listening; runs until killed.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

const (
	mtManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mtConfig   = "application/vnd.docker.container.image.v1+json"
	mtLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
)

func digest(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

var epoch = time.Unix(0, 0)

func layer(busybox string) (tarball []byte, gz []byte) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(name string, mode int64) {
		must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, ModTime: epoch}))
	}
	file := func(name string, mode int64, data []byte) {
		must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: epoch}))
		_, err := tw.Write(data)
		must(err)
	}
	for _, d := range []string{"bin", "dev", "etc", "home", "proc", "root", "sys", "usr", "usr/bin", "usr/sbin", "sbin", "var", "var/spool", "var/spool/mail", "var/www"} {
		dir(d, 0755)
	}
	dir("tmp", 01777)
	bin, err := os.ReadFile(busybox)
	must(err)
	file("bin/busybox", 0755, bin)
	out, err := exec.Command(busybox, "--list-full").Output()
	must(err)
	seen := map[string]bool{"bin/busybox": true}
	for _, p := range strings.Fields(string(out)) {
		p = strings.TrimPrefix(p, "/")
		if seen[p] {
			continue
		}
		seen[p] = true
		must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: p, Linkname: "/bin/busybox", Mode: 0777, ModTime: epoch}))
	}
	file("etc/passwd", 0644, []byte("root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n"+
		"bin:x:2:2:bin:/bin:/bin/false\nsys:x:3:3:sys:/dev:/bin/false\nsync:x:4:100:sync:/bin:/bin/sync\n"+
		"mail:x:8:8:mail:/var/spool/mail:/bin/false\nwww-data:x:33:33:www-data:/var/www:/bin/false\n"+
		"operator:x:37:37:Operator:/var:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n"))
	file("etc/group", 0644, []byte("root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:\ntty:x:5:\ndisk:x:6:\n"+
		"lp:x:7:\nmail:x:8:\nkmem:x:9:\nwheel:x:10:root\ncdrom:x:11:\ndialout:x:18:\nfloppy:x:19:\n"+
		"video:x:28:\naudio:x:29:\ntape:x:32:\nwww-data:x:33:\noperator:x:37:\nutmp:x:43:\nplugdev:x:46:\n"+
		"staff:x:50:\nlock:x:54:\nnetdev:x:82:\nusers:x:100:\nnogroup:x:65534:\n"))
	must(tw.Close())
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, err = zw.Write(buf.Bytes())
	must(err)
	must(zw.Close())
	return buf.Bytes(), z.Bytes()
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func main() {
	busybox := flag.String("busybox", "/bin/busybox", "static busybox to put in the image")
	portFile := flag.String("port-file", "", "file to write the listening port to")
	flag.Parse()

	tarball, gz := layer(*busybox)
	cfg, err := json.Marshal(map[string]interface{}{
		"architecture": "amd64", "os": "linux", "created": epoch.UTC().Format(time.RFC3339),
		"config": map[string]interface{}{
			"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			"Cmd": []string{"sh"},
		},
		"rootfs": map[string]interface{}{"type": "layers", "diff_ids": []string{digest(tarball)}},
	})
	must(err)
	man, err := json.Marshal(map[string]interface{}{
		"schemaVersion": 2, "mediaType": mtManifest,
		"config": map[string]interface{}{"mediaType": mtConfig, "size": len(cfg), "digest": digest(cfg)},
		"layers": []interface{}{map[string]interface{}{"mediaType": mtLayer, "size": len(gz), "digest": digest(gz)}},
	})
	must(err)
	blobs := map[string][]byte{digest(cfg): cfg, digest(gz): gz, digest(man): man}

	serve := func(w http.ResponseWriter, r *http.Request, b []byte, mt string) {
		w.Header().Set("Content-Type", mt)
		w.Header().Set("Docker-Content-Digest", digest(b))
		http.ServeContent(w, r, "", epoch, bytes.NewReader(b))
	}
	notFound := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"errors":[{"code":"NAME_UNKNOWN","message":"not found"}]}`)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			w.WriteHeader(http.StatusMethodNotAllowed)
		case p == "/v2/" || p == "/v2":
			w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
			fmt.Fprint(w, "{}")
		case strings.Contains(p, "/manifests/"):
			ref := p[strings.LastIndex(p, "/")+1:]
			if strings.HasPrefix(ref, "sha256:") && ref != digest(man) {
				notFound(w)
				return
			}
			serve(w, r, man, mtManifest)
		case strings.Contains(p, "/blobs/"):
			b, ok := blobs[p[strings.LastIndex(p, "/")+1:]]
			if !ok {
				notFound(w)
				return
			}
			serve(w, r, b, "application/octet-stream")
		default:
			notFound(w)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	if *portFile != "" {
		port := ln.Addr().(*net.TCPAddr).Port
		must(os.WriteFile(*portFile+".tmp", []byte(fmt.Sprintf("%d\n", port)), 0644))
		must(os.Rename(*portFile+".tmp", *portFile))
	}
	log.Fatal(http.Serve(ln, nil))
}
