"""M-CNN (Tokmakov, Alahari, Schmid, ECCV 2016): semantic segmentation learned from video labels and motion."""
