"""Command groups of the ``counterpromo`` CLI."""
