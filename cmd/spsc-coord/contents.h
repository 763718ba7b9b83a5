/* contents: a queue's atoms as the log records them. */
#ifndef SPSC_CONTENTS_H
#define SPSC_CONTENTS_H

#include "coord.h"

int frame_verify(struct coord *c, const uint8_t *buf, size_t len,
		 int payload_too, struct atom *a, struct atom_frame *f,
		 char *why, size_t whylen);
int frame_check(struct coord *c, const uint8_t *buf, size_t len,
		struct atom *a, char *why, size_t whylen);
int queue_insert_frame(struct coord *c, struct queue *q, uint8_t *buf,
		       uint32_t len, const struct atom *a);
void entry_remove(struct coord *c, struct queue *q, struct entry *e,
		  int64_t now, enum ack_reason why);
uint64_t purge_entries(struct coord *c, struct queue *q, int log);

#endif
