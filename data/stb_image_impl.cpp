// The one translation unit that compiles stb_image (Debian libstb-dev, <stb/stb_image.h>).
// Decoding is thread-safe: stb keeps its failure reason in thread-local storage (v2.27), and we
// never set its global flip/unpremultiply flags. Only the decoders we read are compiled in.
//
// Every stb allocation is zero-filled (calloc). A JPEG scan may name a huffman table that the file
// never defines; stb v2.27 then decodes with whatever its freshly malloc'ed decoder state held
// (often a table left by an earlier image), and a stale table yields symbol ids far outside the
// 256-entry value array (out-of-bounds read; found by fuzz/fuzz_image, bounds-checked upstream
// in v2.28). An all-zero table is harmless: every code decodes to symbol 0 (DC 0, end of block),
// so such a scan gives flat grey blocks, the same on every run.
#include <stdlib.h>
#define STBI_MALLOC(size) calloc(1, size)
#define STBI_REALLOC(p, size) realloc(p, size)
#define STBI_FREE(p) free(p)
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_HDR
#define STBI_NO_PIC
#define STBI_NO_PSD
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wconversion"
#endif
#include <stb/stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
