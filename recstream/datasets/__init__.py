"""Pure dataset loaders (MovieLens 100K, MovieLens CSV, Amazon 2018) and event builders.

Nothing here imports Kafka code; the producers in ``streams/`` and the CLI turn a
``Dataset`` into topic records with ``interaction_event`` and ``item_record``.
"""

from recstream.datasets.detect import FORMATS, detect_format
from recstream.datasets.events import interaction_event, item_record
from recstream.datasets.loader import load_dataset, ml100k_folds
from recstream.datasets.model import Dataset, DatasetError, Interaction, Item

__all__ = [
    "FORMATS",
    "Dataset",
    "DatasetError",
    "Interaction",
    "Item",
    "detect_format",
    "interaction_event",
    "item_record",
    "load_dataset",
    "ml100k_folds",
]
