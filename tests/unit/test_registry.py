from containment.catalog import registry


def test_declared_names_match_the_declared_modules():
    loaded = {c.name for c in registry._load(registry.DECLARED_MODULES)}
    assert loaded == registry.DECLARED_NAMES
    installed = {c.name for c in registry._load(registry.INSTALLED_MODULES)}
    assert not installed & registry.DECLARED_NAMES


def test_cataloger_names_are_unique():
    names = [c.name for c in registry.all_catalogers()]
    assert len(names) == len(set(names))
