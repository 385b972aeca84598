/* libFuzzer harness for the JPEG reader: decodes the input from memory through
 * clstyle_jpeg_read_buffer (the same core as clstyle_jpeg_read, EXIF orientation
 * included) under a 4-megapixel cap, and traps if a decoded image or an error breaks
 * the reader's contract (fuzz_image.h). */
#include "fuzz_image.h"
#include "jpeg_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_image_one(clstyle_jpeg_read_buffer, data, size, "fuzz.jpg");
}
