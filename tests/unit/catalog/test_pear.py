"""PEAR/PECL registry (<php_dir>/.registry/[.channel.<channel>/]<name>.reg, PHP serialize())."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.pear import CATALOGERS, PearRegistryCataloger, PhpSerializeError, php_unserialize
from containment.model import CatalogError

CAT = CATALOGERS[0]
REG = "usr/local/lib/php/.registry"


def ser(v: object) -> bytes:
    """PHP serialize() of a Python value (dicts keep order; lists become 0-indexed arrays)."""
    if v is None:
        return b"N;"
    if isinstance(v, bool):
        return b"b:%d;" % v
    if isinstance(v, int):
        return b"i:%d;" % v
    if isinstance(v, float):
        return b"d:" + repr(v).encode() + b";"
    if isinstance(v, str):
        b = v.encode()
        return b's:%d:"%s";' % (len(b), b)
    items = list(enumerate(v)) if isinstance(v, list) else list(v.items())  # type: ignore[union-attr]
    return b"a:%d:{%s}" % (len(items), b"".join(ser(k) + ser(x) for k, x in items))


# The shape `pecl install redis` leaves in a php:8.3 image: package.xml 2.0 as PEAR's parser
# turns it into an array, plus the installer's bookkeeping (filelist, _lastversion, dirtree,
# old, xsdversion, _lastmodified).
REDIS = {
    "attribs": {
        "packagerversion": "1.10.13",
        "version": "2.0",
        "xmlns": "http://pear.php.net/dtd/package-2.0",
    },
    "name": "redis",
    "channel": "pecl.php.net",
    "summary": "PHP extension for interfacing with key-value stores",
    "description": "This extension provides an API for communicating with RESP-based key-value stores.",
    "lead": [
        {
            "name": "Michael Grunder",
            "user": "mgrunder",
            "email": "michael.grunder@gmail.com",
            "active": "yes",
        },
        {
            "name": "Pavlo Yatsukhnenko",
            "user": "yatsukhnenko",
            "email": "p.yatsukhnenko@gmail.com",
            "active": "yes",
        },
        {
            "name": "Nicolas Favre-F\u00e9lix",
            "user": "nff",
            "email": "n.favrefelix@gmail.com",
            "active": "no",
        },
    ],
    "date": "2024-10-04",
    "version": {"release": "6.1.0", "api": "6.1.0"},
    "stability": {"release": "stable", "api": "stable"},
    "license": {"attribs": {"uri": "https://www.php.net/license"}, "_content": "PHP"},
    "notes": 'phpredis 6.1.0\n\n- Fix some bugs; "quoted" and {braced} text; a:1:{s:1:"x";} inside',
    "contents": {
        "dir": {
            "attribs": {"name": "/"},
            "file": [
                {"attribs": {"role": "doc", "name": "README.md", "md5sum": "0f1e"}},
                {"attribs": {"role": "src", "name": "redis.c", "md5sum": "aa22"}},
            ],
        }
    },
    "dependencies": {
        "required": {"php": {"min": "7.4.0"}, "pearinstaller": {"min": "1.4.0b1"}},
        "optional": {"extension": [{"name": "igbinary"}, {"name": "msgpack"}]},
    },
    "providesextension": "redis",
    "extsrcrelease": {"configureoption": [{"attribs": {"name": "enable-redis-igbinary", "default": "no"}}]},
    "filelist": {
        "README.md": {
            "role": "doc",
            "name": "README.md",
            "installed_as": "/usr/local/lib/php/doc/redis/README.md",
        }
    },
    "_lastversion": None,
    "dirtree": {"/usr/local/lib/php/doc/redis": True},
    "old": {"version": "6.1.0", "release_date": "2024-10-04", "release_state": "stable", "maintainers": []},
    "xsdversion": "2.0",
    "_lastmodified": 1728900000,
    "ratio": 0.5,
}

# the form syft keeps as its v6 test data (trimmed), and the channel-less v5 form
MEMCACHED_V6 = (
    b'a:6:{s:4:"name";s:9:"memcached";s:7:"channel";s:12:"pecl.php.net";s:4:"date";s:10:"2022-01-11";'
    b's:4:"time";s:8:"15:23:47";s:7:"version";a:2:{s:7:"release";s:5:"3.2.0";s:3:"api";s:5:"3.2.0";}'
    b's:7:"license";a:2:{s:7:"attribs";a:1:{s:3:"uri";s:26:"http://www.php.net/license";}s:8:"_content";'
    b's:11:"PHP License";}}'
)
MEMCACHED_V5 = (
    b'a:5:{s:4:"name";s:9:"memcached";s:4:"date";s:10:"2022-01-11";s:4:"time";s:8:"15:23:47";'
    b's:7:"version";a:2:{s:7:"release";s:5:"3.2.0";s:3:"api";s:5:"3.2.0";}s:7:"license";a:2:{'
    b's:7:"attribs";a:1:{s:3:"uri";s:26:"http://www.php.net/license";}s:8:"_content";s:11:"PHP License";}}'
)
# a PEAR library of the default channel (Debian php-pear ships it in usr/share/php)
ARCHIVE_TAR = {
    "name": "Archive_Tar",
    "channel": "pear.php.net",
    "summary": "Tar file management class with compression support (gzip, bzip2, lzma2)",
    "version": {"release": "1.4.14", "api": "1.4.0"},
    "stability": {"release": "stable", "api": "stable"},
    "license": {
        "attribs": {"uri": "http://www.opensource.org/licenses/bsd-license.php"},
        "_content": "New BSD License",
    },
}
# a channel definition, not a package
CHANNEL = {"attribs": {"version": "1.0"}, "name": "pecl.php.net", "suggestedalias": "pecl"}


def tree() -> dict[str, bytes]:
    return {
        f"{REG}/.channel.pecl.php.net/redis.reg": ser(REDIS),
        "usr/share/php/.registry/.channel.pecl.php.net/memcached.reg": MEMCACHED_V6,
        "usr/share/pear/.registry/.channel.pecl.php.net/memcached.reg": MEMCACHED_V5,
        "usr/share/php/.registry/archive_tar.reg": ser(ARCHIVE_TAR),
        f"{REG}/.channels/pecl.php.net.reg": ser(CHANNEL),
        f"{REG}/.channels/.alias/pecl.txt": b"pecl.php.net",
    }


def test_registry():
    pkgs = run_cataloger(CAT, tree())
    assert sorted((p.name, p.version, p.purl, p.path) for p in pkgs) == [
        (
            "Archive_Tar",
            "1.4.14",
            "pkg:pear/pear.php.net/Archive_Tar@1.4.14",
            "usr/share/php/.registry/archive_tar.reg",
        ),
        (
            "memcached",
            "3.2.0",
            "pkg:pear/pecl.php.net/memcached@3.2.0",
            "usr/share/pear/.registry/.channel.pecl.php.net/memcached.reg",
        ),
        (
            "memcached",
            "3.2.0",
            "pkg:pear/pecl.php.net/memcached@3.2.0",
            "usr/share/php/.registry/.channel.pecl.php.net/memcached.reg",
        ),
        ("redis", "6.1.0", "pkg:pear/pecl.php.net/redis@6.1.0", f"{REG}/.channel.pecl.php.net/redis.reg"),
    ]
    redis = next(p for p in pkgs if p.name == "redis")
    assert (redis.type, redis.cataloger, redis.licenses) == ("pear", "php-pear-installed", ("PHP",))
    assert redis.extra == {
        "channel": "pecl.php.net",
        "summary": "PHP extension for interfacing with key-value stores",
        "stability": "stable",
        "extension": "redis",
    }
    v5 = next(p for p in pkgs if p.path.startswith("usr/share/pear"))
    assert v5.extra["channel"] == "pecl.php.net" and v5.licenses == ("PHP License",)  # from the directory


def test_php_unserialize_formats():
    assert php_unserialize(ser(REDIS))["lead"][2]["name"] == "Nicolas Favre-F\u00e9lix"  # byte lengths
    assert php_unserialize(b'O:8:"stdClass":1:{s:1:"a";i:-3;}') == {"a": -3}
    assert php_unserialize(b"a:3:{i:0;b:1;i:1;d:-1.5E+25;i:2;R:1;}") == {0: True, 1: -1.5e25, 2: None}
    assert php_unserialize(b'C:11:"ArrayObject":5:{x:i:0}') is None
    assert php_unserialize(b'E:7:"Foo:Bar";') == "Foo:Bar"
    for bad in (
        b"",
        b"a:1:{",
        b's:5:"abc";',
        b"i:;",
        b"a:-1:{}",
        b"x:1;",
        b'a:1:{s:1:"a";i:1;}junk',
        b"a:99999999999:{}",
    ):
        with pytest.raises(PhpSerializeError):
            php_unserialize(bad)


def test_deep_nesting_is_refused():
    with pytest.raises(PhpSerializeError):
        php_unserialize(b"a:1:{i:0;" * 5000 + b"N;" + b"}" * 5000)


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        (f"{REG}/.channel.pecl.php.net/redis.reg", True),
        ("usr/share/php/.registry/archive_tar.reg", True),
        (f"{REG}/.channel.__uri/thing.reg", True),
        (f"{REG}/.channels/pecl.php.net.reg", False),
        (f"{REG}/.channel./x.reg", False),
        (f"{REG}/.channel.pecl.php.net/redis.txt", False),
        ("usr/share/php/registry/x.reg", False),
        ("etc/x.reg", False),
    ],
)
def test_wants(path, wanted):
    assert CAT.wants(path, 0o100644, 100) is wanted


def test_not_a_registry_entry():
    with pytest.raises(CatalogError, match="redis.reg"):
        CAT.parse(f"{REG}/.channel.pecl.php.net/redis.reg", b"<?php echo 1;", FileTree())
    with pytest.raises(CatalogError):
        CAT.parse(f"{REG}/.channel.pecl.php.net/redis.reg", b's:3:"abc";', FileTree())
    assert run_cataloger(CAT, {f"{REG}/x.reg": ser({"name": "x"})}) == []  # no version


def _check(data: bytes) -> None:
    try:
        out = list(PearRegistryCataloger().parse(f"{REG}/.channel.pecl.php.net/redis.reg", data, FileTree()))
    except CatalogError:
        return
    assert all(p.type == "pear" and p.name and p.version for p in out)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=1024))
def test_fuzz_random_bytes(data):
    _check(data)
    _check(b"a:" + data)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_fuzz_mutated(data):
    raw = bytearray(ser(REDIS))
    for _ in range(data.draw(st.integers(1, 10))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["set", "del", "ins"]))
        byte = data.draw(
            st.sampled_from([ord(c) for c in 'asi:;{}"0123456789N'] + [data.draw(st.integers(0, 255))])
        )
        if op == "set":
            raw[pos] = byte
        elif op == "del":
            del raw[pos]
        else:
            raw.insert(pos, byte)
    _check(bytes(raw))


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=30,
    )
)
def test_fuzz_roundtrip(value):
    def norm(v: object) -> object:
        if isinstance(v, list):
            return {i: norm(x) for i, x in enumerate(v)}
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        return v

    assert php_unserialize(ser(value)) == norm(value)
