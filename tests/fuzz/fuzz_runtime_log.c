/* SPDX-License-Identifier: Apache-2.0 */
/* runc's JSON log (log.json), `runc ps` / state.json parsers, Exec/Update spec decoding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pids.h"
#include "core/runtime.h"
#include "core/specjson.h"
#include "fuzz_plant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[SHIM_ERR_MAX], cg[4096];
	uint32_t *pids = NULL;
	size_t n = 0;

	FUZZ_PLANT(size);
	(void)runtime_log_last_error((const char *)data, size, out, sizeof(out));
	if (pids_parse_ps_json((const char *)data, size, &pids, &n) == 0)
		free(pids);
	(void)pids_cgroup_from_state((const char *)data, size, cg, sizeof(cg));
	for (int k = 0; k < 2; k++) {
		json_t *v = specjson_decode((const char *)data, size, (enum specjson_kind)k, out,
					    sizeof(out));
		json_decref(v);
	}
	return 0;
}
