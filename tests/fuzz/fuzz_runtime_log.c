/* SPDX-License-Identifier: Apache-2.0 */
/* runc's JSON log (log.json) and `runc ps` / state.json parsers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pids.h"
#include "core/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[SHIM_ERR_MAX], cg[4096];
	uint32_t *pids = NULL;
	size_t n = 0;

	(void)runtime_log_last_error((const char *)data, size, out, sizeof(out));
	if (pids_parse_ps_json((const char *)data, size, &pids, &n) == 0)
		free(pids);
	(void)pids_cgroup_from_state((const char *)data, size, cg, sizeof(cg));
	return 0;
}
