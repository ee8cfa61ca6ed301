"""Image -> Inventory: where the layer walk (image/) meets the analyzers (catalog/, checks/).

- `visitor.py`: the walk's visitor, routing wanted files to analyzers and filing their facts;
- `facts.py`: one layer's facts per analyzer group (the layer cache's content);
- `scheduler.py`: which layers to walk for which groups, in parallel, cached by diff_id;
- `squash.py`: layers applied bottom to top, and the finishing touches on packages.
"""

from containment.layers.facts import LayerFacts
from containment.layers.scheduler import Analyzer, scan_target
from containment.layers.squash import finalize, resolve, squash
from containment.layers.visitor import LayerVisitor

__all__ = ["Analyzer", "LayerFacts", "LayerVisitor", "finalize", "resolve", "scan_target", "squash"]
