"""What people look at: the timeline plot, the privacy-safe overlay video and the HTML
report, from an analysis (``analyze --plot --overlay --report``) or a ``watch --out`` log
(``painvision report``). No frame of a face is written unless asked (``show_face``)."""

from painvision.report.timeline import Episode, Span, Timeline

__all__ = ["Episode", "Span", "Timeline"]
