/* render: the status table or JSON, for either backend. */
#ifndef SPSC_RENDER_H
#define SPSC_RENDER_H

struct cJSON;

int render_status(struct cJSON *root, int json, int argc, char **argv);

#endif
