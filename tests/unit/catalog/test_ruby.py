from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.ruby import CATALOGERS, GemspecCataloger, parse_gemspec
from containment.model import CatalogError

GEM_HOME = "usr/local/bundle"

# RubyGems 3.4+ output (version with .freeze, metadata hash, conditional installed_by_version).
RAKE = b"""# -*- encoding: utf-8 -*-
# stub: rake 13.0.6 ruby lib

Gem::Specification.new do |s|
  s.name = "rake".freeze
  s.version = "13.0.6".freeze

  s.required_rubygems_version = Gem::Requirement.new(">= 1.3.2".freeze) if s.respond_to? :required_rubygems_version=
  s.metadata = { "bug_tracker_uri" => "https://github.com/ruby/rake/issues", "source_code_uri" => "https://github.com/ruby/rake/tree/v13.0.6" } if s.respond_to? :metadata=
  s.require_paths = ["lib".freeze]
  s.authors = ["Hiroshi SHIBATA".freeze, "Eric Hodel".freeze]
  s.bindir = "exe".freeze
  s.date = "2021-07-09"
  s.description = "Rake is a Make-like program implemented in Ruby.".freeze
  s.executables = ["rake".freeze]
  s.homepage = "https://github.com/ruby/rake".freeze
  s.licenses = ["MIT".freeze]
  s.required_ruby_version = Gem::Requirement.new(">= 2.2".freeze)
  s.rubygems_version = "3.4.10".freeze
  s.summary = "Rake is a Make-like program implemented in Ruby".freeze

  s.installed_by_version = "3.4.10" if s.respond_to? :installed_by_version
end
"""

# A platform gem written by RubyGems 3.0 (version without .freeze, two licenses).
NOKOGIRI = b"""# -*- encoding: utf-8 -*-
# stub: nokogiri 1.13.10 x86_64-linux lib

Gem::Specification.new do |s|
  s.name = "nokogiri".freeze
  s.version = "1.13.10"
  s.platform = "x86_64-linux".freeze

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.licenses = ["MIT".freeze, "Apache-2.0".freeze]

  if s.respond_to? :specification_version then
    s.specification_version = 4
  end

  if s.respond_to? :add_runtime_dependency then
    s.add_runtime_dependency(%q<racc>.freeze, ["~> 1.4"])
  else
    s.add_dependency(%q<racc>.freeze, ["~> 1.4"])
  end
end
"""

# RubyGems 1.8 era: %q{} literals, no licenses.
OLD = b"""# -*- encoding: utf-8 -*-

Gem::Specification.new do |s|
  s.name = %q{omniauth-openid}
  s.version = "1.0.1"

  s.authors = [%q{Michael Bleigh}, %q{Erik Michaels-Ober}]
  s.date = %q{2011-11-04}
  s.summary = %q{OpenID strategy for OmniAuth.}
end
"""

# A default gem (ships with Ruby).
JSON_DEFAULT = b"""# -*- encoding: utf-8 -*-
# stub: json 2.6.3 ruby lib
# stub: ext/json/ext/generator/extconf.rb ext/json/ext/parser/extconf.rb

Gem::Specification.new do |s|
  s.name = "json".freeze
  s.version = "2.6.3"
  s.licenses = ["Ruby".freeze]
end
"""


def test_catalogers_exported() -> None:
    assert [type(c) for c in CATALOGERS] == [GemspecCataloger]


def test_installed_gems() -> None:
    files = {
        f"{GEM_HOME}/specifications/rake-13.0.6.gemspec": RAKE,
        f"{GEM_HOME}/specifications/nokogiri-1.13.10-x86_64-linux.gemspec": NOKOGIRI,
        "usr/local/lib/ruby/gems/3.2.0/specifications/default/json-2.6.3.gemspec": JSON_DEFAULT,
        "app/vendor/bundle/ruby/3.2.0/specifications/omniauth-openid-1.0.1.gemspec": OLD,
        f"{GEM_HOME}/gems/rake-13.0.6/rake.gemspec": RAKE,  # a gem's own source gemspec: not wanted
    }
    pkgs = {p.name: p for p in run_cataloger(GemspecCataloger(), files)}
    assert sorted(pkgs) == ["json", "nokogiri", "omniauth-openid", "rake"]
    rake = pkgs["rake"]
    assert (rake.version, rake.type, rake.purl) == ("13.0.6", "gem", "pkg:gem/rake@13.0.6")
    assert rake.licenses == ("MIT",)
    assert rake.cataloger == "ruby-installed-gemspec"
    assert rake.path == f"{GEM_HOME}/specifications/rake-13.0.6.gemspec"
    assert rake.extra == {}
    noko = pkgs["nokogiri"]
    assert (noko.version, noko.purl) == ("1.13.10", "pkg:gem/nokogiri@1.13.10")
    assert noko.licenses == ("MIT", "Apache-2.0")
    assert noko.extra == {"platform": "x86_64-linux"}
    assert pkgs["json"].extra == {"default_gem": True}
    assert pkgs["json"].licenses == ("Ruby",)
    old = pkgs["omniauth-openid"]
    assert (old.version, old.licenses) == ("1.0.1", ())


def test_distro_packaged() -> None:
    path = "usr/share/rubygems-integration/all/specifications/rake-13.0.6.gemspec"
    (p,) = run_cataloger(GemspecCataloger(), {path: RAKE})
    assert p.extra == {"distro_packaged": True}


def test_hand_written_variants() -> None:
    data = b"""Gem::Specification.new do |spec|
  spec.name    = 'my_gem'
  spec.version = Gem::Version.new('0.3.1')
  spec.license = 'BSD-2-Clause'
  spec.homepage = "https://x"
end
"""
    assert parse_gemspec(data) == {"name": "my_gem", "version": "0.3.1", "licenses": ["BSD-2-Clause"]}


def test_multiline_licenses_array() -> None:
    data = b's.name = "a"\ns.version = "1"\ns.licenses = [\n  "MIT".freeze,\n  "GPL-2.0".freeze\n]\n'
    assert parse_gemspec(data)["licenses"] == ["MIT", "GPL-2.0"]


def test_stub_line_fallback() -> None:
    data = b"# stub: thor 1.2.1 ruby lib\nGem::Specification.new do |s|\n  s.version = Thor::VERSION\nend\n"
    (p,) = GemspecCataloger().parse("specifications/thor-1.2.1.gemspec", data, FileTree())
    assert (p.name, p.version, p.extra) == ("thor", "1.2.1", {})


def test_escaped_quote_in_string() -> None:
    assert parse_gemspec(b's.name = "we\\"ird"\ns.version = "1"\n')["name"] == 'we"ird'


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("specifications/a-1.gemspec", True),
        ("specifications/default/a-1.gemspec", True),
        ("usr/lib/ruby/gems/3.1.0/specifications/a-1.gemspec", True),
        ("usr/lib/ruby/gems/3.1.0/specifications/default/a-1.gemspec", True),
        ("usr/lib/ruby/gems/3.1.0/gems/a-1/a.gemspec", False),
        ("app/a.gemspec", False),
        ("app/specifications/sub/a.gemspec", False),
        ("app/specifications/a-1.gemspec.bak", False),
    ],
)
def test_wants(path: str, wanted: bool) -> None:
    assert GemspecCataloger().wants(path, 0o100644, 10) is wanted


@pytest.mark.parametrize("data", [b"", b"\xff\xfe garbage", b's.name = "only"\n', b"# stub:\n"])
def test_unreadable_raises_catalog_error(data: bytes) -> None:
    with pytest.raises(CatalogError, match=r"specifications/x\.gemspec"):
        GemspecCataloger().parse("specifications/x.gemspec", data, FileTree())


def _mutate(valid: bytes, noise: bytes) -> bytes:
    if not noise:
        return valid
    cut = noise[0] * len(valid) // 256
    return valid[:cut] + noise[1:] + valid[cut:]


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=1000),
        st.sampled_from([RAKE, NOKOGIRI, OLD, JSON_DEFAULT]).flatmap(
            lambda v: st.binary(max_size=40).map(lambda b, v=v: _mutate(v, b))
        ),
    )
)
def test_fuzz_never_crashes(data: bytes) -> None:
    try:
        out = list(GemspecCataloger().parse("specifications/x.gemspec", data, FileTree()))
    except CatalogError:
        return
    assert all(p.name and p.version and p.purl.startswith("pkg:gem/") for p in out)
