"""Zip packages (.docx, .xlsx) written with unchanged members copied as their raw compressed bytes.

`zipfile` can only copy a member by decompressing and compressing it again; for a package where one part
changes, copying the others verbatim is both faster and lossless.
"""

from __future__ import annotations

import dataclasses
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO

_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sBBHHHHHIIIHHHHHII")
_END = struct.Struct("<4sHHHHIIH")
_OFFSET = struct.Struct("<I")


class ZipRawError(Exception):
    """A package this module cannot copy (encrypted, zip64, damaged)."""


@dataclass
class RawMember:
    """One member: either `raw` (compressed bytes copied as they are) or `data` (new content to compress)."""

    name: str
    raw: bytes | None = None
    data: bytes | None = None
    method: int = zipfile.ZIP_DEFLATED
    crc: int = 0
    size: int = 0  # uncompressed size of `raw`
    dostime: int = 0
    dosdate: int = 0x21  # 1980-01-01
    flags: int = 0
    create_version: int = 20
    create_system: int = 0
    extract_version: int = 20
    internal_attr: int = 0
    external_attr: int = 0
    extra: bytes = b""  # central-directory extra field
    local_extra: bytes = b""
    comment: bytes = b""
    _records: tuple[bytes, bytes, bytes, bytes] | None = dataclasses.field(default=None, init=False, repr=False,
                                                                           compare=False)

    def records(self, level: int = 6) -> tuple[bytes, bytes, bytes, bytes]:
        """What write_zip writes for this member; kept for a raw member, which every package copies alike."""
        if self.raw is None:
            return _records(self, level)
        if self._records is None:
            self._records = _records(self, level)
        return self._records

    def replaced(self, data: bytes) -> "RawMember":
        """The same member (name, attributes) with new content."""
        return RawMember(self.name, None, data, zipfile.ZIP_DEFLATED if self.method != zipfile.ZIP_STORED
                         else zipfile.ZIP_STORED, 0, 0, self.dostime, self.dosdate, self.flags & ~0x0E,
                         self.create_version, self.create_system, self.extract_version, self.internal_attr,
                         self.external_attr, self.extra, b"", self.comment)

    def packed(self, level: int = 6) -> "RawMember":
        """A new member with its content compressed now, as write_zip would, to be copied into many packages."""
        data = self.data or b""
        raw = data if self.method == zipfile.ZIP_STORED else compress(data, level)
        return dataclasses.replace(self, raw=raw, data=None, crc=zlib.crc32(data) & 0xFFFFFFFF, size=len(data),
                                   flags=self.flags & ~0x0E)


def strip_zip64_extra(extra: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i + 4 <= len(extra):
        header_id, size = struct.unpack("<HH", extra[i:i + 4])
        if header_id != 0x0001:
            out += extra[i:i + 4 + size]
        i += 4 + size
    return bytes(out)


def check_member(fp: BinaryIO, info: zipfile.ZipInfo) -> bytes:
    """The member's local header, after checking that it is one and that the member is not encrypted."""
    if info.flag_bits & 0x01:
        raise ZipRawError(f"encrypted zip member {info.filename}")
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise ZipRawError(f"bad local header for zip member {info.filename}")
    return header


def read_member(fp: BinaryIO, info: zipfile.ZipInfo) -> RawMember:
    """The member described by `info`, with its raw compressed bytes."""
    header = check_member(fp, info)
    dostime, dosdate = struct.unpack("<HH", header[10:14])
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    fp.seek(name_len, 1)
    local_extra = fp.read(extra_len)
    raw = fp.read(info.compress_size)
    if len(raw) != info.compress_size:
        raise ZipRawError(f"truncated zip member {info.filename}")
    return RawMember(
        name=info.orig_filename, raw=raw, method=info.compress_type, crc=info.CRC, size=info.file_size,
        dostime=dostime, dosdate=dosdate, flags=info.flag_bits & ~0x08, create_version=info.create_version,
        create_system=info.create_system, extract_version=info.extract_version,
        internal_attr=info.internal_attr, external_attr=info.external_attr & 0xFFFFFFFF,
        extra=strip_zip64_extra(info.extra), local_extra=strip_zip64_extra(local_extra),
        comment=info.comment or b"",
    )


def read_members(source: str | BinaryIO) -> tuple[list[RawMember], bytes]:
    """Every member of a zip in order, raw, and the archive comment."""
    with zipfile.ZipFile(source) as archive:
        fp = archive.fp
        members = [read_member(fp, info) for info in archive.infolist()]
        return members, archive.comment


def compress(data: bytes, level: int = 6) -> bytes:
    co = zlib.compressobj(level, zlib.DEFLATED, -15)
    return co.compress(data) + co.flush()


def write_zip(out: BinaryIO, members: list[RawMember], comment: bytes = b"", level: int = 6) -> None:
    """Write `members` in order: raw ones verbatim, new ones compressed (sizes in the local headers)."""
    central: list[bytes] = []
    offset = 0
    for m in members:
        head, raw, entry, name_and_extra = m.records(level)
        if offset >= 0xFFFFFFFF:
            raise ZipRawError("packages larger than 4 GiB (zip64) are not supported")
        out.write(head)
        out.write(raw)
        central += (entry, _OFFSET.pack(offset), name_and_extra)
        offset += len(head) + len(raw)
    if len(members) >= 0xFFFF:
        raise ZipRawError("packages needing zip64 are not supported")
    directory = b"".join(central)
    out.write(directory + _END.pack(b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), offset,
                                    len(comment)) + comment)


def _records(m: RawMember, level: int) -> tuple[bytes, bytes, bytes, bytes]:
    """The member's local header (with its name and extra), its compressed content, its central-directory entry
    up to the offset of the local header, and what follows that offset (name, extra, comment)."""
    if m.raw is not None:
        raw, crc, size, method, flags = m.raw, m.crc, m.size, m.method, m.flags
    else:
        data = m.data or b""
        crc, size = zlib.crc32(data) & 0xFFFFFFFF, len(data)
        if m.method == zipfile.ZIP_STORED:
            raw, method = data, zipfile.ZIP_STORED
        else:
            raw, method = compress(data, level), zipfile.ZIP_DEFLATED
        flags = m.flags & ~0x0E  # no data descriptor; the option bits described the old deflater
    if not m.name.isascii():
        flags |= 0x800
    name = m.name.encode("utf-8" if flags & 0x800 else "cp437")
    if max(len(raw), size) >= 0xFFFFFFFF:
        raise ZipRawError("packages larger than 4 GiB (zip64) are not supported")
    header = _LOCAL.pack(b"PK\x03\x04", m.extract_version, flags, method, m.dostime, m.dosdate, crc,
                         len(raw), size, len(name), len(m.local_extra))
    entry = _CENTRAL.pack(b"PK\x01\x02", m.create_version, m.create_system, m.extract_version, flags,
                          method, m.dostime, m.dosdate, crc, len(raw), size, len(name), len(m.extra),
                          len(m.comment), 0, m.internal_attr, m.external_attr, 0)[:-4]
    return header + name + m.local_extra, raw, entry, name + m.extra + m.comment
