"""The IDX reader: good files read exactly, every bad one named clearly."""

import bz2
import hashlib
import io
import lzma
import os
import struct
import zipfile

import pytest

import idxfiles
from idxfiles import gz, idx_bytes, images, labels, write
from speedrun import idx
from speedrun.idx import (MAGIC_IMAGES, MAGIC_LABELS, TYPES, IdxError,
                          decode_values, parse_idx, read_idx)


def product(sizes):
    total = 1
    for size in sizes:
        total *= size
    return total


def assert_consistent(array, expect_magic=None):
    width = TYPES[array.type_code][1]
    assert len(array.data) == product(array.dims) * width
    if expect_magic is not None:
        assert array.magic == expect_magic


def problem(blob, path="sample", expect_magic=None):
    with pytest.raises(IdxError) as caught:
        parse_idx(blob, path, expect_magic)
    assert caught.value.path == path
    assert str(caught.value).startswith(f"{path}: ")
    return caught.value.problem


# Good files

def test_parse_images_keeps_shape_and_bytes():
    blob = images(2)
    array = parse_idx(blob, "x", MAGIC_IMAGES)
    assert array.dims == (2, 3, 2)
    assert (array.count, array.item_size) == (2, 6)
    assert array.data == idxfiles.pixels(2)
    assert set(idxfiles.TRICKY_BYTES) <= set(array.data)
    assert array.sha256 == hashlib.sha256(blob).hexdigest()
    assert array.warnings == []


def test_read_gzip_and_raw_files_give_the_same_array(tmp_path):
    blob = labels([0, 9, 3])
    raw = read_idx(write(tmp_path / "l-idx1-ubyte", blob), MAGIC_LABELS)
    packed = read_idx(write(tmp_path / "l-idx1-ubyte.gz", gz(blob)),
                      MAGIC_LABELS)
    assert (raw.dims, raw.data, raw.sha256) == (
        packed.dims, packed.data, packed.sha256)
    assert packed.warnings == []


# 1. Header promises more than the file holds

def test_parse_truncated_payload_gives_expected_and_found_bytes():
    blob = images(3, payload=idxfiles.pixels(2))
    text = problem(blob, expect_magic=MAGIC_IMAGES)
    assert "truncated" in text
    assert "3 × 3 × 2" in text
    assert "= 18 bytes after the 16-byte header, found 12" in text
    assert "2 of 3 records" in text
    assert "ends at offset 28" in text


@pytest.mark.parametrize("blob", [images(2), labels([1, 2, 3])],
                         ids=["images", "labels"])
def test_parse_every_cut_of_a_file_is_an_idx_error(blob):
    for length in range(len(blob)):
        with pytest.raises(IdxError):
            parse_idx(blob[:length], "cut")


@pytest.mark.parametrize("ndims", range(1, 9))
def test_parse_header_cut_short_for_any_number_of_dims(ndims):
    blob = idx_bytes(0x08, (1,) * ndims, b"\x07")
    size = 4 + 4 * ndims
    needs = f"needs {'an' if size == 8 else 'a'} {size}-byte header for " \
            f"{ndims} dimension{'s' if ndims > 1 else ''}"
    for length in range(4, size):
        assert problem(blob[:length]) == f"{needs}, has {length} bytes"


# 2. Values wider than the type byte says

def test_parse_two_bytes_per_pixel_is_not_truncated_silently():
    wide = bytes(b for p in idxfiles.pixels(2) for b in (0, p))
    text = problem(images(2, payload=wide), expect_magic=MAGIC_IMAGES)
    assert "12 extra bytes" in text
    assert "= 12 bytes after the 16-byte header, found 24" in text
    assert "2× the promised size" in text
    assert "2 bytes wide" in text and "unsigned byte" in text


def test_parse_one_stray_byte_is_extra_data():
    text = problem(labels([1, 2]) + b"\n")
    assert "1 extra byte:" in text and "end at offset 10" in text


# 3. Files shorter than any header

def test_parse_ten_byte_images_file_needs_sixteen():
    text = problem(images(2)[:10], expect_magic=MAGIC_IMAGES)
    assert text == "needs a 16-byte IDX header (images), has 10 bytes"


def test_parse_ten_zero_bytes_needs_a_header_not_a_type():
    text = problem(bytes(10), expect_magic=MAGIC_IMAGES)
    assert "needs a 16-byte IDX header (images), has 10 bytes" in text


def test_parse_empty_file_says_empty():
    assert problem(b"", expect_magic=MAGIC_IMAGES) == (
        "the file is empty; it needs a 16-byte IDX header (images)")
    assert problem(b"", expect_magic=MAGIC_LABELS) == (
        "the file is empty; it needs an 8-byte IDX header (labels)")
    assert problem(b"") == "the file is empty; it needs a 4-byte IDX header"


def test_parse_empty_gzip_says_decompressed_data_is_empty():
    text = problem(gz(b""), "e.gz")
    assert text.startswith("the decompressed data is empty")


def test_parse_three_bytes_without_expectation_needs_four():
    assert problem(b"\0\0\x08") == "needs a 4-byte IDX header, has 3 bytes"


# 4. Gzip content whatever the name

def test_read_gzip_named_without_gz_reads_it(tmp_path):
    blob = images(2)
    array = read_idx(write(tmp_path / "train-images-idx3-ubyte", gz(blob)),
                     MAGIC_IMAGES)
    assert array.data == idxfiles.pixels(2)
    assert array.sha256 == hashlib.sha256(blob).hexdigest()


def test_parse_gzip_twice_reads_it_with_a_warning():
    array = parse_idx(gz(gz(labels([4]))), "twice", MAGIC_LABELS)
    assert array.data == b"\x04"
    assert array.warnings == ["twice: gzip-compressed 2 times over; "
                              "read anyway"]


def test_parse_gzip_nested_too_deep_is_an_error():
    blob = labels([4])
    for _ in range(4):
        blob = gz(blob)
    assert "more than 3 times" in problem(blob)


def test_parse_never_reports_gzip_magic_as_idx_magic():
    for blob in (gz(b"\x1f\x8b"), gz(gz(b"junk")), b"\x1f\x8b\x08\x08junk"):
        with pytest.raises(IdxError) as caught:
            parse_idx(blob, "g")
        assert "0x1F8B" not in str(caught.value)
        assert "529205256" not in str(caught.value)


# 5. Raw content under a .gz name

def test_read_raw_idx_named_gz_warns(tmp_path):
    path = write(tmp_path / "t10k-labels-idx1-ubyte.gz", labels([7, 1]))
    array = read_idx(path, MAGIC_LABELS)
    assert array.data == b"\x07\x01"
    assert array.warnings == [
        f"{path}: named .gz but holds uncompressed IDX data; read as is"]


# 6. Something else saved in the file's place

HTML_PAGES = [
    b"<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n",
    b"<html><head><title>Forbidden</title></head></html>",
    b"\xef\xbb\xbf  \r\n<!doctype HTML PUBLIC>\n<HTML>",
    b"\n\n<!-- error --><html>",
]


@pytest.mark.parametrize("page", HTML_PAGES)
def test_read_html_page_named_gz_says_fetch_again(tmp_path, page):
    path = write(tmp_path / "train-images-idx3-ubyte.gz", page)
    with pytest.raises(IdxError) as caught:
        read_idx(path, MAGIC_IMAGES)
    assert str(caught.value) == (
        f"{path}: this is an HTML page, not IDX data (a failed download?); "
        f"fetch the file again")


def test_parse_gzip_compressed_html_page_is_named():
    assert problem(gz(HTML_PAGES[0])).startswith("this is an HTML page")


def test_parse_xml_error_document_is_named():
    page = b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>'
    assert problem(page).startswith("this is an XML document")


@pytest.mark.parametrize("text", [b"404: Not Found", b'{"error": "gone"}\n',
                                  b"version https://git-lfs.github.com/\n"])
def test_parse_text_file_is_named_with_its_start(text):
    message = problem(text, expect_magic=MAGIC_LABELS)
    assert message.startswith("this is a text file, not IDX data")
    assert repr(text.splitlines()[0][:40].decode()) in message


def zipped(blob):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("train-images-idx3-ubyte", blob)
    return buffer.getvalue()


@pytest.mark.parametrize("pack, name", [
    (zipped, "a ZIP archive"),
    (bz2.compress, "bzip2-compressed data"),
    (lzma.compress, "xz-compressed data"),
])
def test_parse_other_archive_formats_are_named(pack, name):
    text = problem(pack(images(2)), expect_magic=MAGIC_IMAGES)
    assert text.startswith(f"this is {name}, not IDX data")


def test_parse_binary_junk_names_the_bytes_at_offset_0():
    text = problem(b"\x01\x02\x03\x04" + bytes(20))
    assert text == ("not IDX data: expected two zero bytes at offset 0, "
                    "found magic 0x01020304")


# 7. Gzip cut short or damaged

@pytest.mark.parametrize("keep", [-1, -8, -20, 11, 3])
def test_read_gzip_cut_short_says_truncated(tmp_path, keep):
    packed = gz(images(40))
    path = write(tmp_path / "train-images-idx3-ubyte.gz", packed[:keep])
    with pytest.raises(IdxError) as caught:
        read_idx(path, MAGIC_IMAGES)
    assert caught.value.path == path
    assert "gzip data is truncated" in caught.value.problem
    assert "fetch the file again" in caught.value.problem


def test_parse_gzip_with_bad_checksum_says_corrupt():
    packed = bytearray(gz(images(2)))
    packed[-6] ^= 0xFF  # inside the CRC-32 of the trailer
    assert "gzip data is corrupt" in problem(bytes(packed))


def test_parse_gzip_with_trailing_junk_says_corrupt():
    assert "gzip data is corrupt" in problem(gz(images(2)) + b"junk")


# 8. Labels for images and the reverse

def test_parse_labels_where_images_expected():
    text = problem(labels([1, 2]), expect_magic=MAGIC_IMAGES)
    assert text.startswith("expected magic 0x00000803 (images), found "
                           "0x00000801 (labels)")


def test_parse_images_where_labels_expected():
    text = problem(images(2), expect_magic=MAGIC_LABELS)
    assert text.startswith("expected magic 0x00000801 (labels), found "
                           "0x00000803 (images)")


def test_parse_labels_with_a_second_dimension():
    blob = idx_bytes(0x08, (3, 1), b"\x01\x02\x03")
    text = problem(blob, expect_magic=MAGIC_LABELS)
    assert text == ("expected magic 0x00000801 (labels, 1 dimension), found "
                    "0x00000802 (2 dimensions at offset 3: 3 × 1)")


def test_parse_flat_images_with_two_dimensions():
    blob = idx_bytes(0x08, (2, 6), idxfiles.pixels(2))
    text = problem(blob, expect_magic=MAGIC_IMAGES)
    assert "found 0x00000802 (2 dimensions at offset 3: 2 × 6)" in text


# 10. Other value types

def float_images(values, count, rows, cols):
    payload = struct.pack(f">{len(values)}f", *values)
    return idx_bytes(0x0D, (count, rows, cols), payload)


def test_parse_float32_images_for_training_is_unsupported():
    blob = float_images([0.5] * 12, 2, 3, 2)
    text = problem(blob, expect_magic=MAGIC_IMAGES)
    assert text == ("unsupported IDX type 0x0D (float32) at offset 2; "
                    "images must be of type 0x08 (unsigned byte)")


@pytest.mark.parametrize("type_code", sorted(TYPES))
def test_parse_every_type_reads_consistently(type_code):
    name, width, code = TYPES[type_code]
    values = [0, 1, 2, 3, 4, 5]
    payload = struct.pack(f">6{code}", *values)
    array = parse_idx(idx_bytes(type_code, (2, 3), payload), "t")
    assert_consistent(array)
    assert decode_values(array) == values


def test_decode_float32_keeps_values():
    array = parse_idx(float_images([0.25, -1.5, 2.0, 0.0], 1, 2, 2), "f")
    assert decode_values(array) == [0.25, -1.5, 2.0, 0.0]


def test_parse_unknown_type_byte_names_offset_2():
    text = problem(idx_bytes(0x0A, (1,), b"\x00"))
    assert text.startswith("unknown IDX type byte 0x0A at offset 2")


@pytest.mark.parametrize("ndims", [0, 9, 255])
def test_parse_dimension_count_out_of_range(ndims):
    text = problem(bytes([0, 0, 0x08, ndims]) + bytes(64))
    assert text == f"expected 1 to 8 dimensions at offset 3, found {ndims}"


def test_parse_huge_promised_sizes_do_not_allocate():
    blob = idx_bytes(0x0E, (0xFFFFFFFF,) * 8)
    assert "is truncated" in problem(blob)


# Files that cannot be read at all

def test_read_missing_file_is_an_idx_error(tmp_path):
    path = str(tmp_path / "absent-idx1-ubyte")
    with pytest.raises(IdxError) as caught:
        read_idx(path)
    assert str(caught.value) == (
        f"{path}: cannot read the file (No such file or directory)")


def test_read_folder_in_a_files_place_is_an_idx_error(tmp_path):
    with pytest.raises(IdxError) as caught:
        read_idx(str(tmp_path))
    assert caught.value.path == str(tmp_path)
    assert "cannot read the file" in caught.value.problem


def test_read_permission_denied_is_an_idx_error(tmp_path, monkeypatch):
    # Works as root too, where chmod cannot make a file unreadable.
    path = write(tmp_path / "locked-idx1-ubyte", labels([1]))

    def refuse(name, *args, **kwargs):
        raise PermissionError(13, "Permission denied", name)

    monkeypatch.setattr(idx, "open", refuse, raising=False)
    with pytest.raises(IdxError) as caught:
        read_idx(path, MAGIC_LABELS)
    assert str(caught.value) == f"{path}: cannot read the file " \
                                f"(Permission denied)"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads files whatever their mode")
def test_read_unreadable_mode_is_an_idx_error(tmp_path):
    path = write(tmp_path / "locked-idx1-ubyte", labels([1]))
    os.chmod(path, 0)
    try:
        with pytest.raises(IdxError) as caught:
            read_idx(path, MAGIC_LABELS)
    finally:
        os.chmod(path, 0o600)
    assert "Permission denied" in caught.value.problem
