"""Live monitoring at the bedside: ``PainMonitor`` (frame in, reading out), the alert
policy, the patient's adaptive neutral, camera sources and the ``watch`` loop with its
local HTTP feed."""

from painvision.live.alerts import AlertPolicy, AlertState, EpisodeEvent
from painvision.live.monitor import SCORERS, PainMonitor, Reading
from painvision.live.neutral import AdaptiveNeutral, NeutralPolicy

__all__ = [
    "SCORERS",
    "AdaptiveNeutral",
    "AlertPolicy",
    "AlertState",
    "EpisodeEvent",
    "NeutralPolicy",
    "PainMonitor",
    "Reading",
]
