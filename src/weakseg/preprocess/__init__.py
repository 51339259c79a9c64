"""Shared preprocessing (superpixels, proposals, saliency, optical flow, motion
segmentation, dense SIFT), computed once per dataset *unit* (a video or an image group)
and stored with :mod:`weakseg.preprocess.store`."""
