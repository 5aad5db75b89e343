"""Importing song tables into the catalog: audio features (`import_features`) and mood tags (`import_tags`).

Files are read as spreadsheets export them (device.catalog.tables, device.catalog.cells), their columns
found by header names (device.catalog.headers), and their rows upserted in batches (importers.rows).
"""

from device.catalog.importers.features import import_features
from device.catalog.importers.rows import ImportSummary
from device.catalog.importers.tags import import_tags, tag_point
from device.circumplex import TAG_POINTS  # where a mood tag sits on the plane

__all__ = ["TAG_POINTS", "ImportSummary", "import_features", "import_tags", "tag_point"]
