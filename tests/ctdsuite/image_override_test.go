// SPDX-License-Identifier: Apache-2.0
//
// Added by tests/ctdsuite/run.sh to containerd's integration/client package: the seed image
// comes from the local registry (tests/ctdsuite/registry) instead of ghcr.io.
package client

import "os"

func init() {
	if v := os.Getenv("CTDSUITE_IMAGE"); v != "" {
		testImage = v
	}
}
