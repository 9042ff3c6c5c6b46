"""Synthetic pain video: real public-domain face photos warped by per-AU deformation
fields on the face mesh, with known per-frame ground truth."""
