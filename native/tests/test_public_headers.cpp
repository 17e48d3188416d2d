// Every public header in one translation unit. Each source file includes only the headers it
// needs, so two headers that define one name differently (an ODR violation) can build and link
// without a word; here they meet and the build fails. CMake lists the headers from
// native/include/facekit/, so a new header is covered without editing this file.
#include "all_public_headers.h"
