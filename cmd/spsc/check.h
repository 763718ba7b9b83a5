/*
 * check: the rules a resolved DAG must follow (spsc-dag(5), CHECKS).
 */
#ifndef SPSC_CHECK_H
#define SPSC_CHECK_H

struct dag;

int dag_check(struct dag *d);

#endif
