"""Network segmentation checks (SecNumCloud 13.1.a flow matrix, 13.2 filtering, 9.6.d admin exposure)."""
