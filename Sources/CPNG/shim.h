// libpng, for the image code: through its "simplified" API, which reports errors by return value
// instead of longjmp.
#include <png.h>
