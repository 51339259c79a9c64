"""CoLo-CAM (Belharbi et al.): co-localization of class activation maps across video frames."""
