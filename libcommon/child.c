#include "child.h"
typedef int spsc_child_placeholder;
