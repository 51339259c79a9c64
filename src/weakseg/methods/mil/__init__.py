"""MIL with Log-Sum-Exp aggregation (Pinheiro & Collobert, CVPR 2015): pixel labels from image labels."""
