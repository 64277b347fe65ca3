// The one test translation unit that compiles stb_image_write (Debian libstb-dev); the data tests
// write their PNG and JPEG fixtures with it.
//
// Its JPEG bit writer left-shifts negative ints (stbiw__jpg_writeBits: `bitBuf <<= 8`), which is
// undefined before C++20; tests/CMakeLists.txt compiles this one file without UBSan.
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
