"""Video input: streaming frame readers and container metadata."""

from painvision.io.video import Frame, FrameReader, VideoInfo, iter_frames, probe_video

__all__ = ["Frame", "FrameReader", "VideoInfo", "iter_frames", "probe_video"]
