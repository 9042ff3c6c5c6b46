"""Reading pain datasets: the generic painvision format (written by ``painvision synth``)
and the UNBC-McMaster archive's own layout."""

from painvision.datasets.generic import (
    ACTIVITIES,
    LABEL_COLUMNS,
    LOOK_ALIKES,
    DatasetItem,
    item_labels,
    load_dataset,
    read_labels,
    read_landmarks,
)
from painvision.datasets.unbc import is_unbc, read_unbc_labels, unbc_sequences

__all__ = ["ACTIVITIES", "LABEL_COLUMNS", "LOOK_ALIKES", "DatasetItem", "is_unbc", "item_labels",
           "load_dataset",
           "read_labels", "read_landmarks", "read_unbc_labels", "unbc_sequences"]
