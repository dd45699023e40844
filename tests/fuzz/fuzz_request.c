/* SPDX-License-Identifier: Apache-2.0 */
/* The Request envelope and every method's payload decoder, on arbitrary bytes. */
#include "fuzz_decode.h"
#include "fuzz_plant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FUZZ_PLANT(size);
	fuzz_decode_request(data, size);
	fuzz_decode_payloads(data, size);
	return 0;
}
