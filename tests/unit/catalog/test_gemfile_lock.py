from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.catalog.base import run_cataloger
from containment.catalog.gemfile_lock import GemfileLockCataloger, gemfile_groups
from containment.model import CatalogError

GEMFILE_LOCK = b"""\
GIT
  remote: https://github.com/rails/rails-html-sanitizer.git
  revision: 6f3b4a2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a
  branch: main
  specs:
    rails-html-sanitizer (1.6.0)
      loofah (~> 2.21)
      nokogiri (~> 1.14)

PATH
  remote: engines/billing
  specs:
    billing (0.1.0)
      money (~> 6.16)

GEM
  remote: https://rubygems.org/
  specs:
    byebug (11.1.3)
    capybara (3.40.0)
      addressable
      nokogiri (~> 1.11)
      rack-test (>= 0.6.3)
    addressable (2.8.6)
      public_suffix (>= 2.0.2, < 6.0)
    loofah (2.22.0)
      crass (~> 1.0.2)
      nokogiri (>= 1.12.0)
    crass (1.0.6)
    mini_portile2 (2.8.5)
    money (6.16.0)
      i18n (>= 0.6.4, <= 2)
    i18n (1.14.1)
      concurrent-ruby (~> 1.0)
    concurrent-ruby (1.2.3)
    nokogiri (1.15.4)
      mini_portile2 (~> 2.8.2)
      racc (~> 1.4)
    nokogiri (1.15.4-aarch64-linux)
      racc (~> 1.4)
    nokogiri (1.15.4-x86_64-linux)
      racc (~> 1.4)
    public_suffix (5.0.4)
    puma (6.4.2)
      nio4r (~> 2.0)
    nio4r (2.7.0)
    racc (1.7.3)
    rack-test (2.1.0)
      rack (>= 1.3)
    rack (3.0.9.1)
    rspec-core (3.13.0)
      rspec-support (~> 3.13.0)
    rspec-support (3.13.1)
    rubocop (1.60.2)
      racc
    sqlite3 (1.7.2-x86_64-linux)

PLATFORMS
  aarch64-linux
  ruby
  x86_64-linux

DEPENDENCIES
  billing!
  byebug
  capybara (>= 3.26)
  nokogiri
  puma (~> 6.4)
  rails-html-sanitizer!
  rspec-core
  rubocop (~> 1.60)
  sqlite3 (~> 1.4)

CHECKSUMS
  byebug (11.1.3) sha256=2485944d2bb21283c593d562f9ae1019bf80af6e2bb2d2a4e4be8a8e8f0a8f0a
  nokogiri (1.15.4-x86_64-linux) sha256=abcd

RUBY VERSION
   ruby 3.2.2p53

BUNDLED WITH
   2.5.6
"""

GEMFILE = b"""\
# frozen_string_literal: true
source "https://rubygems.org"
git_source(:github) { |repo| "https://github.com/#{repo}.git" }

ruby "3.2.2"

gem "puma", "~> 6.4"
gem "sqlite3", "~> 1.4", platforms: [:ruby]  # group: :test is only a comment
gem "nokogiri"
gem "rails-html-sanitizer", github: "rails/rails-html-sanitizer", branch: "main"
gem "billing", path: "engines/billing"
gem "rubocop", "~> 1.60", require: false, groups: %i[development lint]

group :development, :test do
  gem "byebug", platforms: %i[mri mingw x64_mingw]
  platforms :ruby do
    gem "rspec-core"
  end
end

if ENV["CI"]
  gem "simplecov"
end

group :test do
  gem "capybara", ">= 3.26"
end
"""


def pkgs_of(files):
    return {p.name: p for p in run_cataloger(GemfileLockCataloger(), files)}


def test_gemfile_lock_specs_and_dev():
    pkgs = pkgs_of({"app/Gemfile.lock": GEMFILE_LOCK, "app/Gemfile": GEMFILE})
    assert {(n, p.version, p.dev) for n, p in pkgs.items()} == {
        ("rails-html-sanitizer", "1.6.0", False),
        ("billing", "0.1.0", False),
        ("byebug", "11.1.3", True),
        ("capybara", "3.40.0", True),
        ("addressable", "2.8.6", True),
        ("public_suffix", "5.0.4", True),
        ("rack-test", "2.1.0", True),
        ("rack", "3.0.9.1", True),
        ("loofah", "2.22.0", False),
        ("crass", "1.0.6", False),
        ("mini_portile2", "2.8.5", False),
        ("money", "6.16.0", False),
        ("i18n", "1.14.1", False),
        ("concurrent-ruby", "1.2.3", False),
        ("nokogiri", "1.15.4", False),  # main, though capybara (test) needs it too
        ("puma", "6.4.2", False),
        ("nio4r", "2.7.0", False),
        ("racc", "1.7.3", False),  # main via nokogiri, also under rubocop (dev)
        ("rspec-core", "3.13.0", True),
        ("rspec-support", "3.13.1", True),
        ("rubocop", "1.60.2", True),
        ("sqlite3", "1.7.2", False),
    }
    assert pkgs["nokogiri"].extra["platforms"] == ["aarch64-linux", "x86_64-linux"]
    assert pkgs["nokogiri"].purl == "pkg:gem/nokogiri@1.15.4"
    assert pkgs["sqlite3"].extra["platforms"] == ["x86_64-linux"]
    assert pkgs["rails-html-sanitizer"].extra["source"] == "git"
    assert pkgs["rails-html-sanitizer"].extra["remote"] == "https://github.com/rails/rails-html-sanitizer.git"
    assert pkgs["billing"].extra["source"] == "path"
    assert pkgs["puma"].extra == {"source": "gem", "remote": "https://rubygems.org/", "bundled_with": "2.5.6"}
    assert all(
        p.type == "gem" and p.cataloger == "ruby-gemfile-lock" and p.path == "app/Gemfile.lock"
        for p in pkgs.values()
    )


def test_without_gemfile_marks_nothing():
    pkgs = pkgs_of({"app/Gemfile.lock": GEMFILE_LOCK})
    assert len(pkgs) == 22 and not any(p.dev for p in pkgs.values())


def test_gemfile_groups():
    groups = gemfile_groups(GEMFILE.decode())
    assert groups["puma"] == {"default"}
    assert groups["sqlite3"] == {"default"}
    assert groups["rubocop"] == {"development", "lint"}
    assert groups["byebug"] == {"development", "test"}
    assert groups["rspec-core"] == {"development", "test"}
    assert groups["simplecov"] == {"default"}
    assert groups["capybara"] == {"test"}


def test_gems_rb_and_hash_rocket_groups():
    lock = b"GEM\n  remote: https://rubygems.org/\n  specs:\n    rake (13.1.0)\n    pry (0.14.2)\n\nDEPENDENCIES\n  pry\n  rake\n"
    gems_rb = b"source 'https://rubygems.org'\ngem 'rake'\ngem 'pry', :group => :development\n"
    pkgs = pkgs_of({"gems.locked": lock, "gems.rb": gems_rb})
    assert {(n, p.dev) for n, p in pkgs.items()} == {("rake", False), ("pry", True)}


def test_binary_is_error():
    with pytest.raises(CatalogError, match="Gemfile.lock"):
        run_cataloger(GemfileLockCataloger(), {"Gemfile.lock": b"\x00\x01\x02"})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(min_value=0, max_value=2000),
    junk=st.binary(max_size=40),
    raw=st.binary(max_size=300),
    use_raw=st.booleans(),
    gem_cut=st.integers(min_value=0, max_value=800),
    gem_junk=st.text(max_size=40),
)
def test_fuzz_never_crashes(cut, junk, raw, use_raw, gem_cut, gem_junk):
    data = raw if use_raw else GEMFILE_LOCK[:cut] + junk + GEMFILE_LOCK[cut + len(junk) :]
    gemfile = GEMFILE[:gem_cut] + gem_junk.encode() + GEMFILE[gem_cut:]
    try:
        out = run_cataloger(GemfileLockCataloger(), {"Gemfile.lock": data, "Gemfile": gemfile})
    except CatalogError:
        return
    assert isinstance(out, list)
