"""SSNM (Zhang, Chen, Liu, Liu, AAAI 2020): deep object co-segmentation via spatial-semantic network modulation."""
