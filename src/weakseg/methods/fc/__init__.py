"""Foreground Clustering (A. Sharma): joint segmentation and localization as one QP.

- :mod:`.matrices`: the matrices of objective (7): discriminative clustering (eq. 4),
  normalised Laplacian (eq. 5), histogram matching (eq. 6), saliency costs.
- :mod:`.problem`: constraints (8)-(11), the relaxed QP and its cvxpy solve.
- :mod:`.rounding`: box = argmax z; superpixels by the normalised-cut rule (Sec. 8.2).
- :mod:`.variants`: every row of Tables 1-4 as a set of terms of (7).
- :mod:`.frames`: the per-frame inputs read from the preprocessing products.
- :mod:`.assemble`: objective (7) for a set of frames and a variant.
- :mod:`.run`: one unit (video, image group, or a whole class) from inputs to predictions.
"""
