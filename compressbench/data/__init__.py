"""Datasets: finding sample files, decoding them per modality, and suite files."""
