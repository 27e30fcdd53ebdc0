"""Ground-truth data sets: images with known, discrete factors of variation."""
