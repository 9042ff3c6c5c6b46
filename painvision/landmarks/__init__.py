"""Face-mesh front end. The MediaPipe wrapper lives in ``landmarks.facemesh`` and is
imported explicitly, so that ``indices``, ``pose`` and ``tracking`` stay importable
(and testable) without MediaPipe or OpenCV."""

from painvision.landmarks.pose import PoseAlignment, align_to_template, load_template
from painvision.landmarks.tracking import SubjectTracker

__all__ = ["PoseAlignment", "SubjectTracker", "align_to_template", "load_template"]
