#include "hist.h"
typedef int spsc_hist_placeholder;
