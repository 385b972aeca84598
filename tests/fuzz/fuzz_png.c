/* libFuzzer harness for the PNG reader: decodes the input from memory through
 * clstyle_png_read_buffer (the same core as clstyle_png_read) under a 4-megapixel cap,
 * and traps if a decoded image or an error breaks the reader's contract (fuzz_image.h). */
#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_image_one(clstyle_png_read_buffer, data, size, "fuzz.png");
}
