"""Reading pain datasets: the generic painvision format (written by ``painvision synth``)
and the UNBC-McMaster archive's own layout."""

from painvision.datasets.generic import (
    LABEL_COLUMNS,
    DatasetItem,
    item_labels,
    load_dataset,
    read_labels,
    read_landmarks,
)
from painvision.datasets.unbc import is_unbc, read_unbc_labels, unbc_sequences

__all__ = ["LABEL_COLUMNS", "DatasetItem", "is_unbc", "item_labels", "load_dataset",
           "read_labels", "read_landmarks", "read_unbc_labels", "unbc_sequences"]
