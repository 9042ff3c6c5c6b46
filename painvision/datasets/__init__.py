"""Reading pain datasets: the generic painvision format (written by ``painvision synth``),
the UNBC-McMaster archive's own layout and the BioVid Heat Pain Database's part A."""

from painvision.datasets.biovid import (
    BIOVID_LEVELS,
    biovid_samples,
    is_biovid,
    read_biovid_labels,
)
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

__all__ = ["ACTIVITIES", "BIOVID_LEVELS", "LABEL_COLUMNS", "LOOK_ALIKES", "DatasetItem",
           "biovid_samples", "is_biovid", "is_unbc", "item_labels", "load_dataset",
           "read_biovid_labels", "read_labels", "read_landmarks", "read_unbc_labels",
           "unbc_sequences"]
