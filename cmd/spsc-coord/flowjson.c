#include "atom.h"
#include "evtime.h"
#include "flowjson.h"

/* For a person asking what is stuck: how many producers the queue waits
 * for, how many said done, whether it is complete, its watermark (null
 * while unknown). */
void flow_json(cJSON *o, const struct flow *f, int complete, int64_t wm)
{
	char text[EVTIME_TEXT_MAX];

	cJSON_AddNumberToObject(o, "producers_expected", flow_expected(f));
	cJSON_AddNumberToObject(o, "producers", (double)f->n);
	cJSON_AddNumberToObject(o, "producers_done", (double)flow_done_count(f));
	cJSON_AddBoolToObject(o, "sealed", f->sealed);
	cJSON_AddBoolToObject(o, "complete", complete);
	if (wm == ATOM_TIME_NONE) {
		cJSON_AddNullToObject(o, "watermark");
	} else {
		evtime_format(wm, text, sizeof text);
		cJSON_AddStringToObject(o, "watermark", text);
	}
}
