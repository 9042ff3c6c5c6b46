"""Reading pain datasets: the generic painvision format (written by ``painvision synth``)."""

from painvision.datasets.generic import (
    LABEL_COLUMNS,
    DatasetItem,
    load_dataset,
    read_labels,
    read_landmarks,
)

__all__ = ["LABEL_COLUMNS", "DatasetItem", "load_dataset", "read_labels", "read_landmarks"]
