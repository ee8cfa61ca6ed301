"""A small, defensive reader for executable containers (ELF, PE, Mach-O) over bytes in memory.

Shared by the Go and Rust binary catalogers. It reads only headers, section and segment
tables; every offset and count is checked against the buffer, so hostile input yields an
`Exe` with fewer tables (or `None`), never an exception and never a large allocation.

Only what the catalogers need: address -> file offset mapping over the loaded segments,
sections by name, and the start of the data area where Go's linker puts its build info
(the same rule as Go's own debug/buildinfo `DataStart`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

ELF_MAGIC = b"\x7fELF"
MACHO_MAGICS = (b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe")

_MAX_TABLE = 65536  # more program headers / sections / load commands than this is hostile
_PT_LOAD = 1
_PF_X = 1
_PF_W = 2
_SHT_NOBITS = 8


@dataclass
class Section:
    name: str
    addr: int
    offset: int  # file offset; -1 when the section has no file bytes (NOBITS / bss)
    size: int  # bytes in the file


@dataclass
class Exe:
    kind: str  # "elf", "pe", "macho"
    data: bytes
    big_endian: bool = False
    ptr_size: int = 8
    # loaded ranges: (vaddr, file size, file offset)
    segments: list[tuple[int, int, int]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    # (address, size) where Go's build info lives or begins; (0, 0) when unknown
    data_start: tuple[int, int] = (0, 0)

    def section(self, name: str) -> Section | None:
        for s in self.sections:
            if s.name == name:
                return s
        return None

    def section_bytes(self, name: str) -> bytes | None:
        s = self.section(name)
        if s is None or s.offset < 0 or s.offset + s.size > len(self.data):
            return None
        return self.data[s.offset : s.offset + s.size]

    def offset_of(self, addr: int) -> tuple[int, int] | None:
        """File offset of a virtual address and how many file bytes follow it in its segment."""
        for vaddr, filesz, off in self.segments:
            if vaddr <= addr < vaddr + filesz:
                o = off + (addr - vaddr)
                avail = min(filesz - (addr - vaddr), len(self.data) - o)
                if o < 0 or avail <= 0:
                    return None
                return o, avail
        return None

    def read(self, addr: int, n: int) -> bytes | None:
        loc = self.offset_of(addr)
        if loc is None or n < 0:
            return None
        o, avail = loc
        return self.data[o : o + min(n, avail)]


def kind_of(data: bytes) -> str:
    head = data[:4]
    if head == ELF_MAGIC:
        return "elf"
    if head[:2] == b"MZ":
        return "pe"
    if head in MACHO_MAGICS:
        return "macho"
    return ""


def parse(data: bytes) -> Exe | None:
    """The executable's tables, or None when `data` is not a (readable) ELF, PE or Mach-O."""
    kind = kind_of(data)
    try:
        if kind == "elf":
            return _parse_elf(data)
        if kind == "pe":
            return _parse_pe(data)
        if kind == "macho":
            return _parse_macho(data)
    except (struct.error, ValueError, IndexError):
        return None
    return None


def _cstr(b: bytes) -> str:
    i = b.find(b"\0")
    return (b if i < 0 else b[:i]).decode("latin-1")


def _parse_elf(data: bytes) -> Exe | None:
    if len(data) < 52:
        return None
    cls, enc = data[4], data[5]
    if cls not in (1, 2) or enc not in (1, 2):
        return None
    e = "<" if enc == 1 else ">"
    is64 = cls == 2
    exe = Exe("elf", data, big_endian=enc == 2, ptr_size=8 if is64 else 4)
    if is64:
        if len(data) < 64:
            return None
        phoff, shoff = struct.unpack_from(e + "QQ", data, 0x20)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(e + "HHHHH", data, 0x36)
    else:
        phoff, shoff = struct.unpack_from(e + "II", data, 0x1C)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(e + "HHHHH", data, 0x2A)

    # program headers
    ph_fmt, ph_min = (e + "IIQQQQQQ", 56) if is64 else (e + "IIIIIIII", 32)
    if phoff and phentsize >= ph_min and phnum <= _MAX_TABLE:
        for i in range(phnum):
            o = phoff + i * phentsize
            if o + ph_min > len(data):
                break
            f = struct.unpack_from(ph_fmt, data, o)
            if is64:
                p_type, p_flags, p_offset, p_vaddr, _pa, p_filesz, p_memsz, _al = f
            else:
                p_type, p_offset, p_vaddr, _pa, p_filesz, p_memsz, p_flags, _al = f
            if p_type != _PT_LOAD:
                continue
            exe.segments.append((p_vaddr, p_filesz, p_offset))
            if exe.data_start == (0, 0) and p_flags & (_PF_X | _PF_W) == _PF_W:
                exe.data_start = (p_vaddr, p_memsz)

    # section headers (absent in some stripped / crafted files: then only segments are used)
    sh_fmt, sh_min = (e + "IIQQQQIIQQ", 64) if is64 else (e + "IIIIIIIIII", 40)
    if shoff and shentsize >= sh_min and shoff + sh_min <= len(data):
        if shnum == 0:  # extended numbering: the count is in section 0's size
            shnum = struct.unpack_from(sh_fmt, data, shoff)[5]
        if shstrndx == 0xFFFF:
            shstrndx = struct.unpack_from(sh_fmt, data, shoff)[6]
        if shnum > _MAX_TABLE:
            return exe
        raw = []
        for i in range(shnum):
            o = shoff + i * shentsize
            if o + sh_min > len(data):
                break
            raw.append(struct.unpack_from(sh_fmt, data, o))
        strtab = b""
        if 0 <= shstrndx < len(raw):
            s = raw[shstrndx]
            if s[1] != _SHT_NOBITS and s[4] + s[5] <= len(data):
                strtab = data[s[4] : s[4] + s[5]]
        for s in raw:
            name_off, sh_type, _fl, addr, off, size = s[:6]
            name = _cstr(strtab[name_off : name_off + 256]) if name_off < len(strtab) else ""
            if sh_type == _SHT_NOBITS or off + size > len(data):
                exe.sections.append(Section(name, addr, -1, 0))
            else:
                exe.sections.append(Section(name, addr, off, size))
        bi = exe.section(".go.buildinfo")
        if bi is not None and bi.offset >= 0:
            exe.data_start = (bi.addr, bi.size)
    return exe


def _parse_pe(data: bytes) -> Exe | None:
    if len(data) < 0x40:
        return None
    lfanew = struct.unpack_from("<I", data, 0x3C)[0]
    if lfanew + 24 > len(data) or data[lfanew : lfanew + 4] != b"PE\0\0":
        return None
    nsect, _ts, symptr, nsyms, opt_size = struct.unpack_from("<HIIIH", data, lfanew + 6)
    opt = lfanew + 24
    if opt + 2 > len(data):
        return None
    magic = struct.unpack_from("<H", data, opt)[0]
    if magic == 0x20B:
        image_base = struct.unpack_from("<Q", data, opt + 24)[0]
        ptr = 8
    elif magic == 0x10B:
        image_base = struct.unpack_from("<I", data, opt + 28)[0]
        ptr = 4
    else:
        return None
    exe = Exe("pe", data, ptr_size=ptr)
    strtab_off = symptr + nsyms * 18 if symptr else 0  # COFF string table for long names
    sec = opt + opt_size
    for i in range(min(nsect, 96)):  # the PE loader allows at most 96 sections
        o = sec + i * 40
        if o + 40 > len(data):
            break
        name_raw, vsize, va, rawsize, rawptr = struct.unpack_from("<8sIIII", data, o)
        chars = struct.unpack_from("<I", data, o + 36)[0]
        name = _cstr(name_raw)
        if name.startswith("/") and name[1:].isdigit() and strtab_off:
            so = strtab_off + int(name[1:])
            if so < len(data):
                name = _cstr(data[so : so + 256])
        size = min(rawsize, vsize) if vsize else rawsize
        if rawptr + size > len(data):
            size = max(0, len(data) - rawptr)
        exe.sections.append(Section(name, image_base + va, rawptr if size else -1, size))
        exe.segments.append((image_base + va, size, rawptr))
        # Go's rule: the first initialized, readable, writable (non-code) data section
        data_rw = 0x00000040 | 0x40000000 | 0x80000000
        if exe.data_start == (0, 0) and va and rawsize and chars & ~0x00600000 == data_rw:
            exe.data_start = (image_base + va, vsize)
    return exe


def _parse_macho(data: bytes) -> Exe | None:
    magic = data[:4]
    e = ">" if magic in (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf") else "<"
    is64 = magic in (b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe")
    if len(data) < 32:
        return None
    ncmds, sizeofcmds = struct.unpack_from(e + "II", data, 16)
    off = 32 if is64 else 28
    exe = Exe("macho", data, big_endian=e == ">", ptr_size=8 if is64 else 4)
    end = min(len(data), off + sizeofcmds)
    rw_segment: tuple[int, int] | None = None
    for _ in range(min(ncmds, _MAX_TABLE)):
        if off + 8 > end:
            break
        cmd, cmdsize = struct.unpack_from(e + "II", data, off)
        if cmdsize < 8:
            break
        if cmd in (0x1, 0x19):
            seg64 = cmd == 0x19
            if seg64:
                if off + 72 > end:
                    break
                segname, vmaddr, vmsize, fileoff, filesize, maxprot, initprot, nsects, _fl = (
                    struct.unpack_from(e + "16sQQQQiiII", data, off + 8)
                )
                s_off, s_size = off + 72, 80
            else:
                if off + 56 > end:
                    break
                segname, vmaddr, vmsize, fileoff, filesize, maxprot, initprot, nsects, _fl = (
                    struct.unpack_from(e + "16sIIIIiiII", data, off + 8)
                )
                s_off, s_size = off + 56, 68
            exe.segments.append((vmaddr, filesize, fileoff))
            if rw_segment is None and vmaddr and filesize and initprot == 3 and maxprot == 3:
                rw_segment = (vmaddr, vmsize)
            for j in range(min(nsects, _MAX_TABLE)):
                so = s_off + j * s_size
                if so + s_size > off + cmdsize or so + s_size > len(data):
                    break
                sectname = _cstr(data[so : so + 16])
                if seg64:
                    addr, size, foff = struct.unpack_from(e + "QQI", data, so + 32)
                else:
                    addr, size, foff = struct.unpack_from(e + "III", data, so + 32)
                ok = foff and foff + size <= len(data)
                exe.sections.append(Section(sectname, addr, foff if ok else -1, size if ok else 0))
        off += cmdsize
    bi = exe.section("__go_buildinfo")
    if bi is not None:
        exe.data_start = (bi.addr, bi.size)
    elif rw_segment is not None:
        exe.data_start = rw_segment
    return exe
