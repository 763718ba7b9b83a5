#include "key.h"
typedef int spsc_key_placeholder;
